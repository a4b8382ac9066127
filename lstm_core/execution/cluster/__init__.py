"""Training on a Dask cluster: connect, submit, stream progress back, stop, and get results.

Nothing is configured by default and everything then runs in this process. With
`LSTM_LAB_DASK=tcp://HOST:PORT` (or an explicit address) trainings go to that scheduler's
workers, started outside the app (`make cluster`, `make worker`): a Streamlit script must not
start a LocalCluster, whose spawned workers re-import the script (streamlit#4788).

- Progress: the worker logs each epoch (and batches, at most every BATCH_REPORT_INTERVAL s)
  under a topic of its own; `Client.subscribe_topic` hands them to the caller's hook.
- Stop: a named `distributed.Event` that the remote stop check polls; the run ends after the
  current batch and keeps what it trained, as in process.
- Results come back without the live Keras model but with its `.keras` bytes (`model_bytes`,
  what the run store saves). With LSTM_LAB_DASK set the app server reads them as a NumPy twin
  (lstm_core.model.twin) and never imports TensorFlow: the Inside page's SimpleRNN and the
  warm-up run on the workers too (tasks), and connecting checks the workers have Keras and
  this server's code (a hash of the lstm_core files).
- A worker that dies mid-training: the scheduler gives the task to another worker (Dask's
  `allowed-failures`, 3 by default); `retries` also reruns a task that raised.

No Streamlit here, and importing this package imports neither TensorFlow nor Dask.

connection  the scheduler's address, connecting, errors in one sentence
remote      what runs on a worker (run_training with progress and a stop)
runners     one run (ClusterRunner) or a group (GroupRunner) on the cluster
executor    cluster_executor: groups of runs, one config per free worker
tasks       small Keras tasks: the warm-up of each worker, the comparison SimpleRNN
shared      the app server's one shared connection (SHARED_CLUSTER)
"""

from lstm_core.execution.cluster.connection import (
    CONNECT_TIMEOUT,
    ENVIRONMENT_VARIABLE,
    WORKERS_TIMEOUT,
    ClusterError,
    NoWorkersError,
    SchedulerLostError,
    connect,
    dashboard_link,
    scheduler_address,
    translated_errors,
    wait_for_workers,
    worker_count,
)
from lstm_core.execution.cluster.executor import cluster_executor
from lstm_core.execution.cluster.runners import ClusterRunner, GroupRunner, train_here
from lstm_core.execution.cluster.shared import SHARED_CLUSTER, SharedCluster
from lstm_core.execution.cluster.tasks import comparison_rnn, run_task, warm_workers

__all__ = [
    "CONNECT_TIMEOUT",
    "ENVIRONMENT_VARIABLE",
    "SHARED_CLUSTER",
    "WORKERS_TIMEOUT",
    "ClusterError",
    "ClusterRunner",
    "GroupRunner",
    "NoWorkersError",
    "SchedulerLostError",
    "SharedCluster",
    "cluster_executor",
    "comparison_rnn",
    "connect",
    "dashboard_link",
    "run_task",
    "scheduler_address",
    "train_here",
    "translated_errors",
    "wait_for_workers",
    "warm_workers",
    "worker_count",
]
