/**
 * Links each frame's objects into tracks: greedy nearest matching of centroids (predicted
 * from the last two observations) between frames, never across colour names, within a
 * third of the frame height. Tracks seen in fewer than half the frames are dropped.
 */
import type { Component, FrameObjects } from "./segment.ts";
import type { Colour } from "./vocab.ts";

export interface Observation {
  readonly t: number;
  readonly comp: Component;
  readonly colour: Colour;
}

export interface Track {
  readonly obs: Observation[];
}

const MAX_JUMP = 1 / 3;

export function linkTracks(frames: readonly FrameObjects[], colours: readonly Colour[][]): Track[] {
  const T = frames.length;
  const H = frames[0]?.height ?? 1;
  const tracks: Track[] = [];
  for (let t = 0; t < T; t++) {
    const comps = frames[t]!.components;
    const pairs: { cost: number; track: Track; k: number }[] = [];
    for (const tr of tracks) {
      const last = tr.obs[tr.obs.length - 1]!;
      const prev = tr.obs[tr.obs.length - 2];
      const gap = t - last.t;
      let px = last.comp.cx;
      let py = last.comp.cy;
      if (prev) {
        const span = last.t - prev.t;
        px += ((last.comp.cx - prev.comp.cx) / span) * gap;
        py += ((last.comp.cy - prev.comp.cy) / span) * gap;
      }
      for (let k = 0; k < comps.length; k++) {
        if (colours[t]![k] !== last.colour) continue;
        const c = comps[k]!;
        const cost = Math.hypot(c.cx - px, c.cy - py) / H;
        if (cost < MAX_JUMP * Math.min(gap, 3)) pairs.push({ cost, track: tr, k });
      }
    }
    pairs.sort((a, b) => a.cost - b.cost);
    const usedTrack = new Set<Track>();
    const usedComp = new Set<number>();
    for (const p of pairs) {
      if (usedTrack.has(p.track) || usedComp.has(p.k)) continue;
      usedTrack.add(p.track);
      usedComp.add(p.k);
      p.track.obs.push({ t, comp: comps[p.k]!, colour: colours[t]![p.k]! });
    }
    for (let k = 0; k < comps.length; k++)
      if (!usedComp.has(k)) tracks.push({ obs: [{ t, comp: comps[k]!, colour: colours[t]![k]! }] });
  }
  return tracks.filter((tr) => tr.obs.length >= Math.max(2, T / 2));
}
