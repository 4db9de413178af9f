#!/usr/bin/env bash
# One reel-toy training session on a GPU machine, sized for the device tool (one command of at
# most 10 minutes; see training/gpu/README.md): render CLIPS fresh training clips with object
# masks on all but two cores, encode them with the init model's VAE, warm-start the DiT and
# text encoder from the init model and train them DIT_MINUTES on the GPU (cosine lr over the
# minutes, bf16), export, and leave in $OUT: model.tar (the model folder), dit.log.jsonl,
# session.log.
# usage, in the repository root, .gpu/ packed by training/gpu/pack.sh and carried:
#   OUT=DIR training/gpu/session.sh [DIT_MINUTES=6] [CLIPS=16000] [BATCH=128] [LR=4e-4]
set -euo pipefail
cd "$(dirname "$0")/../.."
MIN=${1:-6}
CLIPS=${2:-16000}
BATCH=${3:-128}
LR=${4:-4e-4}
: "${OUT:?set OUT to the folder the results go to}"
PY=${PY:-python3}
[ -f .gpu/init/reel.json ] || { echo "session.sh: no .gpu/init (run training/gpu/pack.sh MODEL here and carry .gpu)" >&2; exit 2; }
WORK=${WORK:-/tmp/reel-gpu}
R=$WORK/run
rm -rf "$WORK"
mkdir -p "$WORK" "$OUT"
export PYTHONUNBUFFERED=1
log() { echo "[session $(date +%T)] $*" | tee -a "$OUT/session.log"; }
"$PY" -c "import lzma, shutil, sys; shutil.copyfileobj(lzma.open('.gpu/node.xz'), open(sys.argv[1], 'wb'))" "$WORK/node"
chmod +x "$WORK/node"
export REEL_TOY_NODE=$WORK/node REEL_TOY_STREAM=$PWD/.gpu/stream.mjs
"$WORK/node" --version >/dev/null
# The init model's shape: DiT blocks and patch, VAE factor.
read -r LAYERS PATCH DOWN < <("$PY" -c "
import json
d = json.load(open('.gpu/init/config.json')); r = json.load(open('.gpu/init/reel.json'))
print(d['num_layers'], d['patch_size'][1], 2 ** (len(r['vae']['dim_mult']) - 1))")
WORKERS=$(( $(nproc) > 3 ? $(nproc) - 2 : 1 ))
log "init: $LAYERS blocks, patch $PATCH, ${DOWN}x VAE; $CLIPS clips on $WORKERS renderers; DiT $MIN min, batch $BATCH, lr $LR"
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" | tee -a "$OUT/session.log"
T=("$PY" training/train_toy.py)
"${T[@]}" vae --run "$R" --cuda --vae-down "$DOWN" --vae-init .gpu/init/Wan2.1_VAE.safetensors --steps 0 | tee -a "$OUT/session.log"
"${T[@]}" latents --run "$R" --cuda --count "$CLIPS" --workers "$WORKERS" --threads 2 | tail -n 1 | tee -a "$OUT/session.log"
log "latents done"
"${T[@]}" dit --run "$R" --cuda --dit-init .gpu/init --dit-layers "$LAYERS" --dit-patch "$PATCH" --batch "$BATCH" --lr "$LR" \
  --decay-steps 0 --minutes "$MIN" --dit-motion-weight 1 | awk 'NR % 50 == 1 || /steps|init/' | tee -a "$OUT/session.log"
"${T[@]}" export --run "$R" --out "$WORK/model" | tee -a "$OUT/session.log"
tar -C "$WORK" -cf "$OUT/model.tar" model
cp "$R/dit.log.jsonl" "$OUT/"
log "done"
