"""Read numbers back from a plotly figure's JSON, which stores numpy arrays as base64 'bdata'."""

import base64

import numpy as np


def values(field: object) -> np.ndarray:
    """A trace field (list, or plotly's {'dtype', 'bdata', 'shape'} encoding) as an array."""
    if isinstance(field, dict) and "bdata" in field:
        array = np.frombuffer(base64.b64decode(field["bdata"]), dtype=np.dtype(field["dtype"]))
        if "shape" in field:
            shape = tuple(int(part) for part in str(field["shape"]).split(","))
            array = array.reshape(shape)
        return array
    return np.asarray(field)
