#!/usr/bin/env node
// Regenerates models/manifest.json from the exported model folders (models/style/<id>/model.json),
// keeping the built-in entries. Run after training/export: `node scripts/models-manifest.mjs`.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const file = join(root, 'models/manifest.json');
const current = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : { version: 1, models: [] };
const keep = current.models.filter((m) => m.builtin);

const STYLE_DATA = 'content: photos/landscapes (research and training only), photos/cq100 (CC0/PD/CC-BY/CC-BY-SA, attribution in metadata.csv), faces/london (CC-BY 4.0), faces/selfies (research only); style: a public-domain painting';
const found = [];
for (const kind of ['style', 'anime']) {
  const dir = join(root, 'models', kind);
  if (!existsSync(dir)) continue;
  for (const id of readdirSync(dir).sort()) {
    const mj = join(dir, id, 'model.json');
    if (!existsSync(mj)) continue;
    const m = JSON.parse(readFileSync(mj, 'utf8'));
    // Cheaper tiers of the same network: models/<kind>/<id>/<tier>/model.json (brushcam_train.distill
    // for a style, brushcam_anime.distill for the avatar's translator).
    const tiers = readdirSync(join(dir, id), { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(dir, id, d.name, 'model.json')))
        .map((d) => ({ id: d.name, folder: `${kind}/${id}/${d.name}`, gflopsAt640x360: JSON.parse(readFileSync(join(dir, id, d.name, 'model.json'), 'utf8')).arch?.gflop_640x360 ?? null }))
        .sort((a, b) => (b.gflopsAt640x360 ?? 0) - (a.gflopsAt640x360 ?? 0));
    found.push({
      id: m.id ?? id,
      kind: kind === 'style' ? 'style' : 'avatar',
      name: (m.title ? `${m.title}${m.artist ? ` (${m.artist.split(',')[0]})` : ''}` : id),
      ...(m.title ? { title: m.title } : {}),
      ...(m.artist ? { artist: m.artist.split(',')[0] } : {}),
      // The popup's gallery picture (training/thumbnails.py: the network on a sample portrait).
      ...(existsSync(join(dir, id, 'thumb.jpg')) ? { thumbnail: 'thumb.jpg' } : {}),
      folder: `${kind}/${id}`,
      inputResolution: null,
      gflopsAt640x360: m.arch?.gflop_640x360 ?? null,
      ...(tiers.length ? { tiers } : {}),
      dataLicence: m.data_licence ?? STYLE_DATA,
      provenance: `${m.arch?.name ?? 'network'} trained by training/ (run ${m.run ?? '?'}, ${m.trained_steps ?? '?'} steps); see ${kind}/${id}/MODEL.md`,
    });
  }
}
writeFileSync(file, JSON.stringify({ version: 1, models: [...keep, ...found] }, null, 2) + '\n');
console.log(`models/manifest.json: ${keep.length} built-in, ${found.length} trained (${found.map((m) => m.id).join(', ')})`);
