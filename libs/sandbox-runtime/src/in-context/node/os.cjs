'use strict';
// Node's `os` with fixed, harmless values: nothing of the machine the sandbox runs on is
// revealed (no real hostname, interfaces, load or memory figures).
/* global __OS_CONSTANTS__ */

const cpu = { model: 'codestep sandbox vCPU', speed: 2000, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
const MB = 1024 * 1024;

module.exports = {
  EOL: '\n',
  devNull: '/dev/null',
  constants: __OS_CONSTANTS__,
  arch: () => 'x64',
  availableParallelism: () => 1,
  cpus: () => [{ ...cpu, times: { ...cpu.times } }],
  endianness: () => 'LE',
  freemem: () => 64 * MB,
  totalmem: () => 128 * MB,
  getPriority: () => 0,
  setPriority: () => {},
  homedir: () => '/tmp',
  hostname: () => 'sandbox',
  loadavg: () => [0, 0, 0],
  machine: () => 'x86_64',
  networkInterfaces: () => ({}),
  platform: () => 'linux',
  release: () => '6.0.0-codestep',
  tmpdir: () => '/tmp',
  type: () => 'Linux',
  uptime: () => 0,
  userInfo: () => ({ uid: 1000, gid: 1000, username: 'sandbox', homedir: '/tmp', shell: null }),
  version: () => '#1 SMP codestep',
};
