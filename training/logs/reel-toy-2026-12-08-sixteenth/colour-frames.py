# The colour term clip-wide (--dit-colour-bind) against frame by frame (--dit-colour-bind-frames) on a run's
# checkpoint, by noise level, on up to 48 of its clips (every 7th) showing 2+ named objects and 48 showing one.
# From the repository root: /usr/bin/python3 training/logs/reel-toy-2026-12-08-sixteenth/colour-frames.py RUN
import sys, os, json, numpy as np, torch
sys.path.insert(0, 'reference'); sys.path.insert(0, 'training')
import train_toy as tt
run = sys.argv[1]
dev = torch.device('cpu')
st = torch.load(os.path.join(run, 'dit.pt'), map_location=dev)
tok = 'models/reel-toy/tokenizer/tokenizer.json'
tt.T5_CONFIG["vocab"] = tt.vocab_size(tok)
dit = tt.WanModel(**tt.dit_config(run)).eval(); dit.load_state_dict(st['dit'])
t5 = tt.T5Encoder(**tt.T5_CONFIG).eval(); t5.load_state_dict(st['t5'])
cover = tt.load_group_cover(run, 'diag', None)
lat = np.load(os.path.join(run, 'latents.npy'), mmap_mode='r')
meta = json.load(open(os.path.join(run, 'latents.json')))
stats = json.load(open(os.path.join(run, 'latent_stats.json')))
prev = tt.fit_preview(run)
cb, pf = tt.ColourBind(prev, dev), tt.ColourBind(prev, dev, per_frame=True)
for label, want in (('2+ objects', lambda n: n >= 2), ('1 object', lambda n: n == 1)):
    pick = [i for i in range(0, meta['done'], 7)
            if want(int((np.asarray(cover[i]).reshape(cover.shape[1], -1) > 127).any(axis=1).sum()))][:48]
    idx = np.array(pick)
    mean = torch.tensor(stats['mean']).view(1, -1, 1, 1, 1); std = torch.tensor(stats['std']).view(1, -1, 1, 1, 1)
    x0 = (torch.from_numpy(np.asarray(lat[idx], dtype=np.float32)) - mean) / std
    gt = torch.from_numpy(np.asarray(cover[idx])).float() / 255
    ids = torch.zeros(len(idx), tt.TEXT_LEN, dtype=torch.long)
    for r, i in enumerate(idx):
        ids[r, :len(meta['ids'][i])] = torch.tensor(meta['ids'][i][:tt.TEXT_LEN])
    with torch.no_grad():
        keep0 = torch.ones(len(idx), dtype=torch.bool); s0 = torch.ones(len(idx))
        print(json.dumps({'clips': label, 'floor_clip_wide': round(float(cb.loss(x0, x0, gt, s0, keep0).loss), 4),
                          'floor_frame_by_frame': round(float(pf.loss(x0, x0, gt, s0, keep0).loss), 4)}), flush=True)
        ctx = tt.encode_text(t5, ids, (ids != 0).long())
        for sigma in (0.95, 0.9, 0.8, 0.6, 0.4, 0.2):
            g = torch.Generator().manual_seed(0)
            eps = torch.randn(x0.shape, generator=g)
            xt = (1 - sigma) * x0 + sigma * eps
            outs = []
            for b in range(0, len(idx), 8):
                sl = slice(b, b + 8)
                v = dit(xt[sl], torch.full((len(xt[sl]),), sigma * 1000.0), ctx[sl], tt.seq_len(dit, xt))
                outs.append(v)
            x0h = xt - sigma * torch.cat(outs)
            keep = torch.ones(len(idx), dtype=torch.bool); s = torch.full((len(idx),), sigma)
            a, c = cb.loss(x0h, x0, gt, s, keep), pf.loss(x0h, x0, gt, s, keep)
            print(json.dumps({'clips': label, 'n': len(idx), 'sigma': sigma, 'clip_wide': round(float(a.loss), 4),
                              'frame_by_frame': round(float(c.loss), 4), 'ratio': round(float(c.loss) / max(float(a.loss), 1e-9), 2),
                              'swap_clip': a.swap, 'swap_frames': c.swap}), flush=True)
