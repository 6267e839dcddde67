'use strict';
const { rmSync } = require('node:fs');

module.exports = async function globalTeardown() {
  const state = globalThis.__wxpInfrastructure;
  if (!state) return;
  await state.infra.stop();
  if (!process.env.WXP_KEEP_TEST_DATA) rmSync(state.dataDir, { recursive: true, force: true });
};
