#!/usr/bin/env bash
# Packs what training/gpu/session.sh needs on a GPU machine that has PyTorch but no node and no
# npm registry (the device tool's H200: see training/gpu/README.md) into .gpu/ (git-ignored):
#   .gpu/node.xz        this machine's node binary, xz-compressed (~24 MB)
#   .gpu/stream.mjs     scripts/toy/stream.ts bundled by esbuild (the renderer, captions, tokenizer)
#   .gpu/node_modules/  protobufjs/minimal, which the bundle loads with require()
#   .gpu/init/          the model folder the DiT warm-starts from (and whose VAE encodes)
# usage: training/gpu/pack.sh MODEL_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
INIT=${1:?usage: training/gpu/pack.sh MODEL_DIR (e.g. models/reel-toy)}
[ -f "$INIT/reel.json" ] || { echo "pack.sh: $INIT is not a reel model folder (no reel.json)" >&2; exit 2; }
rm -rf .gpu
mkdir -p .gpu/node_modules/protobufjs
npx esbuild scripts/toy/stream.ts --bundle --platform=node --format=esm --outfile=.gpu/stream.mjs --log-level=warning
cp -r node_modules/protobufjs/package.json node_modules/protobufjs/minimal.js node_modules/protobufjs/src .gpu/node_modules/protobufjs/
cp -r node_modules/@protobufjs node_modules/long .gpu/node_modules/
xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > .gpu/node.xz
if [ -d "$INIT/high_noise_model" ]; then
  # A two-expert model: the GPU session trains one DiT over every noise level, so it starts from
  # the high-noise expert (and that expert's training record).
  mkdir -p .gpu/init
  find "$INIT" -mindepth 1 -maxdepth 1 ! -name high_noise_model ! -name low_noise_model -exec cp -r {} .gpu/init/ \;
  cp "$INIT"/high_noise_model/* .gpu/init/
  python3 -c 'import json, sys; p = sys.argv[1]; r = json.load(open(p)); e = r.pop("experts"); r["training"] = e["high_noise_model_training"]; json.dump(r, open(p, "w"), indent=2)' .gpu/init/reel.json
else
  cp -r "$INIT" .gpu/init
fi
# The bundle must stream exactly what the repository's renderer streams.
REEL_NO_REEXEC=1 node .gpu/stream.mjs --seed 3 --count 2 --masks --tokenizer training/tokenizer.json | sha256sum > .gpu/check.a
REEL_NO_REEXEC=1 node bin/run-ts.js scripts/toy/stream.ts --seed 3 --count 2 --masks --tokenizer training/tokenizer.json | sha256sum > .gpu/check.b
cmp -s .gpu/check.a .gpu/check.b || { echo "pack.sh: the bundled stream differs from scripts/toy/stream.ts" >&2; exit 1; }
rm .gpu/check.a .gpu/check.b
du -sh .gpu
