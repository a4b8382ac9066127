#!/bin/sh
# A worker on "another machine": it runs in its own network namespace (iproute2, root only),
# reachable only through a veth pair, and joins the scheduler by address as a second machine
# would. Then a sweep runs through it from the host side, and everything is torn down.
#
#     sudo sh bench/cluster_netns_demo.sh
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.venv/bin"
NS=lstmlab-demo
HOST_IF=lstmlab-h0
NS_IF=lstmlab-w0
HOST_IP=10.213.0.1
NS_IP=10.213.0.2
PORT=${PORT:-18790}
LOGS=$(mktemp -d)
SCHEDULER_PID=
WORKER_PID=

cleanup() {
	[ -n "$WORKER_PID" ] && kill "$WORKER_PID" 2>/dev/null || true
	[ -n "$SCHEDULER_PID" ] && kill "$SCHEDULER_PID" 2>/dev/null || true
	sleep 2
	ip netns del "$NS" 2>/dev/null || true
	ip link del "$HOST_IF" 2>/dev/null || true
	echo "torn down (logs were in $LOGS)"
}
trap cleanup EXIT

ip netns add "$NS"
ip link add "$HOST_IF" type veth peer name "$NS_IF"
ip link set "$NS_IF" netns "$NS"
ip addr add "$HOST_IP/24" dev "$HOST_IF"
ip link set "$HOST_IF" up
ip netns exec "$NS" ip addr add "$NS_IP/24" dev "$NS_IF"
ip netns exec "$NS" ip link set "$NS_IF" up
ip netns exec "$NS" ip link set lo up
echo "namespace $NS: $(ip netns exec "$NS" ip -br addr | tr -s ' ' | tr '\n' ';')"
echo "its only route: $(ip netns exec "$NS" ip route | tr '\n' ';')"

PYTHONPATH="$ROOT" TF_CPP_MIN_LOG_LEVEL=2 "$BIN/dask" scheduler --host "$HOST_IP" --port "$PORT" \
	--dashboard-address "$HOST_IP:$((PORT + 1))" >"$LOGS/scheduler.log" 2>&1 &
SCHEDULER_PID=$!
ip netns exec "$NS" env PYTHONPATH="$ROOT" TF_CPP_MIN_LOG_LEVEL=2 "$BIN/dask" worker \
	"tcp://$HOST_IP:$PORT" --host "$NS_IP" --nthreads 1 --nworkers 1 \
	--preload lstm_core.model.pipeline >"$LOGS/worker.log" 2>&1 &
WORKER_PID=$!

cd "$ROOT"
"$BIN/python" - "$HOST_IP" "$PORT" <<'EOF'
import sys
import time

from distributed import Client

from lstm_core import cli, data
from lstm_core.execution import cluster
from lstm_core.experiments import sweeps as experiments
from lstm_core.config import TrainConfig

address = f"tcp://{sys.argv[1]}:{sys.argv[2]}"
with Client(address, timeout=30, set_as_default=False) as client:
    started = time.perf_counter()
    client.wait_for_workers(1, timeout=600)
    print(f"worker joined after {time.perf_counter() - started:.1f} s: "
          f"{sorted(client.scheduler_info()['workers'])}")
client = cluster.connect(address)
series = data.load_snapshot().series("MSFT")
config = TrainConfig(lag=10, units=(8,), dense_units=0, epochs=1, batch_size=64)
result = cluster.ClusterRunner(client, restore_model=False)(config, series)
here = experiments.train_task(config, series)
print(f"trained on {result.cluster_worker}: test RMSE ${result.metrics['lstm']['rmse']:.4f} "
      f"(in process ${here.metrics['lstm']['rmse']:.4f}; persistence "
      f"${result.metrics['persistence']['rmse']:.4f}, test period "
      f"{result.test_dates[0]:%Y-%m-%d} to {result.test_dates[-1]:%Y-%m-%d})")
client.close()
status = cli.main(["sweep", "--lags", "10", "12", "--batch-sizes", "64", "--epochs", "1",
                   "--units", "8", "--dense-units", "0", "--scheduler", address])
print(f"CLI sweep through the namespace's worker: exit status {status}")
EOF
