/**
 * Snapshot serializer for synthesized templates: masks what changes with handler code, the
 * checkout path or the machine (asset hashes, `CurrentVersion<hash>` IDs, bundling paths), so a
 * snapshot diff shows infrastructure changes only.
 */
const HASH = /[0-9a-f]{64}(\.zip)?/g;
const VERSION_ID = /CurrentVersion[0-9A-F]{32}/g;

const mask = (s: string) =>
  s.replace(HASH, '[ASSET_HASH]').replace(VERSION_ID, 'CurrentVersion[HASH]');

module.exports = {
  test: (val: unknown) => typeof val === 'string' && mask(val) !== val,
  serialize: (val: string) => JSON.stringify(mask(val)),
};
