"""The model and its training: the Keras network, training, one run's pipeline and result.

Also the warm-up, the internals (gates, saliency) and the NumPy twin that runs a saved network
without Keras (for a page server whose trainings run on a Dask cluster). Importing this
package alone loads no TensorFlow; network and training do, and so does running the pipeline,
the warm-up or a Keras model's saliency.
"""
