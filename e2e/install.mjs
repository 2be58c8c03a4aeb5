#!/usr/bin/env node
// End-to-end install test: what a user gets from `npm install napi-multiprocessing`.
//
// Packs the built tree the way a release does (napi artifacts + napi pre-publish on a staged
// copy), publishes the host's platform package and the root package to a throwaway verdaccio on
// 127.0.0.1, installs the root package into fresh projects with no Rust toolchain on PATH, and
// runs ESM and CJS checks there: once with the platform package (native kernels), once with
// optional dependencies omitted (pure-TypeScript fallback, one warning).
//
// Needs `npm run build` first (`npm test` does it); it reuses that build instead of building
// again. Run: `npm run test:e2e`. Set E2E_KEEP=1 to keep the temp dir for debugging.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const requireFromRoot = createRequire(join(ROOT, 'package.json'));
const started = performance.now();

// The bar is five minutes on a clean clone; a run that gets near it is broken, not slow.
const WATCHDOG_MS = 270_000;
const NPM_TIMEOUT_MS = 120_000;
const CHECK_TIMEOUT_MS = 60_000;
// The sum of the primes below 100000, as the issue states it; the sieve below recomputes it.
const SUM_PRIMES_100K = 454396537;
const XS = [0, 2, 3, 10, 1000, 25_000, 100_000];

let passed = 0;
let failed = 0;
let abortReason = null;
const children = new Set();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)}s`;
const log = (line) => console.log(`[e2e ${elapsed()}] ${line}`);

class CheckFailed extends Error {}

function check(what, ok, detail) {
  if (ok) {
    passed++;
    log(`ok   ${what}`);
    return;
  }
  failed++;
  log(`FAIL ${what}${detail === undefined ? '' : `\n       ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
  // Every later step builds on the earlier ones, so the first failure ends the run.
  throw new CheckFailed(what);
}

/** Runs a command without a shell; resolves with its output, kills it at `timeoutMs`. */
function run(cmd, args, { cwd, env, timeoutMs, quiet = false }) {
  const shown = [cmd, ...args].map((a) => (a === process.execPath ? 'node' : a.endsWith('npm-cli.js') ? 'npm' : a));
  if (!quiet) log(`$ ${shown.join(' ')}  (in ${cwd})`);
  if (abortReason) return Promise.resolve({ code: null, signal: null, stdout: '', stderr: '', error: new Error(abortReason) });
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => {
      children.delete(child);
      resolve({ code: null, signal: null, stdout, stderr, error });
    });
    child.on('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, stdout, stderr, error: abortReason ? new Error(abortReason) : null });
    });
  });
}

/**
 * Stops the run from outside (signal, watchdog): kills the running command so its step fails and
 * the normal unwinding stops the registry and removes the temp dir after every child is gone.
 */
function abort(reason) {
  if (abortReason) return;
  abortReason = reason;
  log(`FAIL ${reason}: stopping`);
  for (const child of children) child.kill('SIGKILL');
  // If unwinding itself hangs, clean up and leave anyway.
  setTimeout(() => {
    log('unwinding took too long: forcing cleanup');
    cleanUp().finally(() => process.exit(1));
  }, 15_000).unref();
}

function describe(result) {
  const reason = result.error
    ? result.error.message
    : result.signal
      ? `killed by ${result.signal} (timeout?)`
      : `exit code ${result.code}`;
  return `${reason}\n--- stdout ---\n${result.stdout.slice(-4000)}\n--- stderr ---\n${result.stderr.slice(-4000)}`;
}

async function mustRun(what, cmd, args, opts) {
  const result = await run(cmd, args, opts);
  check(what, result.code === 0, describe(result));
  return result;
}

/** Reference sums, computed here with a sieve so the checks do not trust the package under test. */
function sumPrimesBelow(n) {
  if (n < 3) return 0;
  const composite = new Uint8Array(n);
  let sum = 0;
  for (let i = 2; i < n; i++) {
    if (composite[i]) continue;
    sum += i;
    for (let j = i * i; j < n; j += i) composite[j] = 1;
  }
  return sum;
}

/** The napi target (from package.json) this machine can load, as napi-rs names it. */
async function hostTarget(targets) {
  const { parseTriple } = await import(requireFromRoot.resolve('@napi-rs/cli'));
  const glibc = process.platform === 'linux' && Boolean(process.report?.getReport()?.header?.glibcVersionRuntime);
  const abi = process.platform === 'linux' ? (glibc ? 'gnu' : 'musl') : process.platform === 'win32' ? 'msvc' : null;
  return targets
    .map((triple) => parseTriple(triple))
    .find((t) => t.platform === process.platform && t.arch === process.arch && (t.abi ?? null) === abi);
}

/** npm's own CLI script, so npm runs even from a PATH stripped down to the bare minimum. */
function findNpmCli() {
  const candidates = [process.env.npm_execpath];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const npm = join(dir, process.platform === 'win32' ? 'npm.cmd' : 'npm');
    if (dir && existsSync(npm)) {
      candidates.push(realpathSync(npm));
      candidates.push(join(dirname(realpathSync(npm)), 'npm-cli.js'));
    }
  }
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'));
  const found = candidates.find((c) => c && /npm-cli\.js$/.test(c) && existsSync(c));
  if (!found) throw new Error('cannot find npm-cli.js (looked at npm_execpath, PATH and next to node)');
  return found;
}

/**
 * A PATH with every directory that holds cargo or rustc removed, plus one directory with just a
 * `node` link (in case node lived in a removed directory), so nothing can compile Rust.
 */
async function pathWithoutRust(binDir) {
  const exe = (name) => (process.platform === 'win32' ? `${name}.exe` : name);
  const hasRust = (dir) => ['cargo', 'rustc'].some((tool) => existsSync(join(dir, exe(tool))));
  const kept = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir && !hasRust(dir));
  await mkdir(binDir, { recursive: true });
  await symlink(process.execPath, join(binDir, exe('node')));
  return [binDir, ...kept].join(delimiter);
}

/** Everything under `dir`, as paths relative to it. */
function walk(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    return entry.isDirectory() ? walk(full, base) : [relative(base, full)];
  });
}

const isRustSource = (file) =>
  /\.rs$/.test(file) ||
  /(^|\/)Cargo\.(toml|lock)$/.test(file) ||
  /(^|\/)(crates|target)\//.test(file) ||
  /(^|\/)build\.rs$/.test(file);

/** `npm pack --json` of `dir` into `dest`: the tarball path and the list of files in it. */
async function pack(what, npm, dir, dest, env) {
  const result = await mustRun(
    `${what}: npm pack`,
    process.execPath,
    [npm, 'pack', '--json', '--ignore-scripts', '--pack-destination', dest],
    {
      cwd: dir,
      env,
      timeoutMs: NPM_TIMEOUT_MS,
    },
  );
  const [info] = JSON.parse(result.stdout);
  return { tarball: join(dest, info.filename), files: info.files.map((f) => f.path), info };
}

async function startRegistry(dir) {
  const { runServer } = requireFromRoot('verdaccio');
  // No uplinks: the packages under test exist only here, a same-named package on a public
  // registry can never stand in for them, and a runtime dependency slipping into the root package
  // fails the install instead of being fetched quietly.
  const server = await runServer({
    self_path: join(dir, 'config.yaml'),
    storage: join(dir, 'storage'),
    auth: { htpasswd: { file: join(dir, 'htpasswd'), max_users: -1 } },
    uplinks: {},
    packages: { '**': { access: '$all', publish: '$all', unpublish: '$all' } },
    web: { enable: false },
    log: { type: 'stdout', format: 'pretty', level: 'error' },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return server;
}

async function stopRegistry(server) {
  server.closeAllConnections?.();
  await new Promise((resolve) => server.close(() => resolve()));
}

/** Runs check.mjs and check.cjs in `project` and judges what they print. */
async function runChecks(label, project, env, expectNative, hostPackage) {
  const expectedMap = XS.map(sumPrimesBelow);
  check(
    `${label}: reference sieve agrees that sumPrimes(100000) = ${SUM_PRIMES_100K}`,
    sumPrimesBelow(100_000) === SUM_PRIMES_100K,
  );
  for (const script of ['check.mjs', 'check.cjs']) {
    const style = script.endsWith('.mjs') ? 'ESM import' : 'CJS require';
    const result = await run(process.execPath, [script], {
      cwd: project,
      env: { ...env, E2E_XS: JSON.stringify(XS) },
      timeoutMs: CHECK_TIMEOUT_MS,
    });
    check(`${label} [${style}]: script exits 0 (no crash)`, result.code === 0, describe(result));
    let report;
    try {
      report = JSON.parse(result.stdout.trim().split('\n').at(-1));
    } catch {
      check(`${label} [${style}]: script prints its JSON report`, false, describe(result));
    }
    check(`${label} [${style}]: native.available === ${expectNative}`, report.available === expectNative, report);
    check(
      `${label} [${style}]: native.sumPrimes(100000) === ${SUM_PRIMES_100K}`,
      report.sum100k === SUM_PRIMES_100K,
      report.sum100k,
    );
    check(
      `${label} [${style}]: new Pool({ backend: 'native', processes: 2 }).map(native.sumPrimes, ${JSON.stringify(XS)}) matches the sieve`,
      isDeepStrictEqual(report.poolMap, expectedMap),
      { got: report.poolMap, expected: expectedMap },
    );
    check(
      `${label} [${style}]: new Pool({ processes: 2 }).map((x) => x * x, xs) runs on worker threads from the installed package`,
      isDeepStrictEqual(
        report.threadMap,
        XS.map((x) => x * x),
      ),
      { got: report.threadMap },
    );
    const fromHostPackage = `node_modules${sep}${hostPackage}${sep}`;
    if (expectNative) {
      check(
        `${label} [${style}]: the one .node loaded comes from ${hostPackage}`,
        report.loadedAddons.length === 1 && report.loadedAddons[0].includes(fromHostPackage),
        report.loadedAddons,
      );
    } else {
      check(`${label} [${style}]: no .node loaded`, report.loadedAddons.length === 0, report.loadedAddons);
    }
    const expectedWarnings = expectNative ? [] : ['NAPI_MULTIPROCESSING_NO_NATIVE'];
    check(
      `${label} [${style}]: warnings seen by the process: ${JSON.stringify(expectedWarnings)}`,
      isDeepStrictEqual(report.warnings, expectedWarnings),
      report.warnings,
    );
    const printed = result.stderr.split('NAPI_MULTIPROCESSING_NO_NATIVE').length - 1;
    check(
      `${label} [${style}]: no-native warning printed ${expectedWarnings.length} time(s) on stderr`,
      printed === expectedWarnings.length,
      result.stderr,
    );
  }
}

/** The environment every npm here runs in: nothing from the caller's npm setup, temp files in `tmp`. */
async function isolatedEnv(tmp, npmrc) {
  // `npm run` exports npm_config_* for its own settings; each npm here reads only the npmrc
  // written below and uses a fresh cache, so every package the consumers get really comes through
  // the registry.
  const baseEnv = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^npm_/i.test(k) && k !== 'NAPI_MULTIPROCESSING_NO_NATIVE' && k !== 'NODE_OPTIONS',
    ),
  );
  Object.assign(baseEnv, {
    npm_config_userconfig: npmrc,
    npm_config_cache: join(tmp, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    npm_config_loglevel: 'warn',
    // Whatever npm or napi leave in a temp dir goes away with ours.
    TMPDIR: join(tmp, 'tmp'),
    TEMP: join(tmp, 'tmp'),
    TMP: join(tmp, 'tmp'),
  });
  await mkdir(join(tmp, 'tmp'), { recursive: true });
  await writeFile(npmrc, '');
  return baseEnv;
}

/**
 * Packs the root package exactly as `npm pack` makes it from the repository, then stages it as the
 * release job does (platform dirs, `napi artifacts`, `napi pre-publish`) and packs the platform
 * package and the root package as published. Only this host's binary exists here, so napi runs
 * with a config naming just this target.
 */
async function stagePackages({ tmp, npm, pkg, target, hostPackage, addon, baseEnv }) {
  const { binaryName } = pkg.napi;
  const abi = target.platformArchABI;
  const packs = join(tmp, 'packs');
  await mkdir(packs, { recursive: true });
  await mkdir(join(tmp, 'stage'), { recursive: true });
  const repoPack = await pack('root package (repository)', npm, ROOT, join(tmp, 'stage'), baseEnv);
  checkRootFiles('root package (repository)', repoPack.files);

  const stage = join(tmp, 'stage', 'package');
  await mustRun('unpack the root tarball into the stage', 'tar', ['-xzf', repoPack.tarball, '-C', join(tmp, 'stage')], {
    cwd: tmp,
    env: baseEnv,
    timeoutMs: 30_000,
  });
  await cp(join(ROOT, 'npm'), join(stage, 'npm'), { recursive: true });
  const napiConfig = join(tmp, 'stage', 'napi.host.json');
  await writeFile(napiConfig, JSON.stringify({ binaryName, targets: [target.triple] }));
  const napi = join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
  await mustRun(
    'napi artifacts copies the built binary into its platform package',
    process.execPath,
    [napi, 'artifacts', '-c', napiConfig, '--output-dir', join(ROOT, 'native'), '--npm-dir', 'npm'],
    {
      cwd: stage,
      env: baseEnv,
      timeoutMs: NPM_TIMEOUT_MS,
    },
  );
  await mustRun(
    'napi pre-publish adds optionalDependencies (publishing skipped)',
    process.execPath,
    [napi, 'pre-publish', '-c', napiConfig, '-t', 'npm', '--skip-optional-publish', '--no-gh-release'],
    {
      cwd: stage,
      env: baseEnv,
      timeoutMs: NPM_TIMEOUT_MS,
    },
  );

  const platformPack = await packPlatform({ stage, abi, npm, packs, pkg, hostPackage, addon, baseEnv });

  // The stage now also holds a .node at its top and under npm/: `files` must keep them out.
  const rootPack = await pack('root package (as published)', npm, stage, packs, baseEnv);
  checkRootFiles('root package (as published)', rootPack.files);
  const publishedRoot = JSON.parse(await readFile(join(stage, 'package.json'), 'utf8'));
  check(
    `root package has optionalDependencies["${hostPackage}"] === "${pkg.version}"`,
    publishedRoot.optionalDependencies?.[hostPackage] === pkg.version,
    publishedRoot.optionalDependencies,
  );
  check(
    'root package has no runtime dependencies',
    Object.keys(publishedRoot.dependencies ?? {}).length === 0,
    publishedRoot.dependencies,
  );

  return { packs, platformTarball: platformPack.tarball, rootTarball: rootPack.tarball };
}

/** Packs the staged platform package of this host and checks its name, version and single .node. */
async function packPlatform({ stage, abi, npm, packs, pkg, hostPackage, addon, baseEnv }) {
  const platformDir = join(stage, 'npm', abi);
  const platformPkg = JSON.parse(await readFile(join(platformDir, 'package.json'), 'utf8'));
  const platformPack = await pack(`platform package ${hostPackage}`, npm, platformDir, packs, baseEnv);
  const nodeFiles = platformPack.files.filter((f) => f.endsWith('.node'));
  check(
    `platform package is named ${hostPackage} at version ${pkg.version}`,
    platformPkg.name === hostPackage && platformPkg.version === pkg.version,
    platformPkg,
  );
  check(
    `platform package contains exactly one .node (${platformPack.files.length} files: ${platformPack.files.join(', ')})`,
    nodeFiles.length === 1,
    platformPack.files,
  );
  check(`platform package's .node is its main, ${addon}`, nodeFiles[0] === addon && platformPkg.main === addon, {
    nodeFiles,
    main: platformPkg.main,
  });
  return platformPack;
}

/** npm install of the published package, with and without its platform package, each checked. */
async function installAndCheck({ tmp, npm, pkg, hostPackage, addon, baseEnv }) {
  const PATH = await pathWithoutRust(join(tmp, 'bin'));
  const consumerEnv = { ...baseEnv, PATH };
  const hostCargo = await run('cargo', ['--version'], { cwd: tmp, env: baseEnv, timeoutMs: 30_000, quiet: true });
  log(`cargo on the caller's PATH: ${hostCargo.code === 0 ? hostCargo.stdout.trim() : 'not found'}`);
  for (const tool of ['cargo', 'rustc']) {
    const probe = await run(tool, ['--version'], { cwd: tmp, env: consumerEnv, timeoutMs: 30_000 });
    check(`\`${tool} --version\` fails on the consumers' PATH`, probe.code !== 0, describe(probe));
  }

  for (const scenario of [
    { label: 'with the platform package', dir: 'consumer-native', extraArgs: [], expectNative: true },
    {
      label: 'platform package absent (--omit=optional)',
      dir: 'consumer-fallback',
      extraArgs: ['--omit=optional'],
      expectNative: false,
    },
  ]) {
    const project = join(tmp, scenario.dir);
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, 'package.json'),
      JSON.stringify({ name: scenario.dir, version: '0.0.0', private: true }, null, 2),
    );
    for (const script of ['check.mjs', 'check.cjs']) await cp(join(ROOT, 'e2e', 'consumer', script), join(project, script));
    await mustRun(
      `${scenario.label}: npm install ${pkg.name}@${pkg.version} ${scenario.extraArgs.join(' ')}`.trim(),
      process.execPath,
      [npm, 'install', `${pkg.name}@${pkg.version}`, ...scenario.extraArgs],
      { cwd: project, env: consumerEnv, timeoutMs: NPM_TIMEOUT_MS },
    );
    const installedRoot = join(project, 'node_modules', pkg.name);
    const installedPlatform = join(project, 'node_modules', hostPackage);
    check(`${scenario.label}: installed ${pkg.name} holds no .node`, !walk(installedRoot).some((f) => f.endsWith('.node')));
    if (scenario.expectNative) {
      check(
        `${scenario.label}: ${hostPackage} installed with ${addon}`,
        existsSync(join(installedPlatform, addon)) && statSync(join(installedPlatform, addon)).size > 0,
      );
    } else {
      check(`${scenario.label}: ${hostPackage} is not installed`, !existsSync(installedPlatform));
    }
    await runChecks(scenario.label, project, consumerEnv, scenario.expectNative, hostPackage);
  }
}

async function main(tmp) {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
  const target = await hostTarget(pkg.napi.targets);
  check(`this host (${process.platform}-${process.arch}) is one of napi.targets`, target !== undefined, pkg.napi.targets);
  const abi = target.platformArchABI;
  const hostPackage = `${pkg.name}-${abi}`;
  const addon = `${pkg.napi.binaryName}.${abi}.node`;
  log(`host target ${target.triple}: platform package ${hostPackage}, binary ${addon}`);

  await checkReleaseConfig(pkg);

  for (const file of [
    'dist/index.js',
    'dist/index.cjs',
    'dist/index.d.ts',
    'native/binding.cjs',
    'native/binding.d.ts',
    `native/${addon}`,
  ]) {
    check(`built tree has ${file} (run \`npm run build\` first)`, existsSync(join(ROOT, file)));
  }

  const npm = findNpmCli();
  const npmrc = join(tmp, 'npmrc');
  const baseEnv = await isolatedEnv(tmp, npmrc);
  const context = { tmp, npm, pkg, target, hostPackage, addon, baseEnv };
  const { packs, platformTarball, rootTarball } = await stagePackages(context);

  // A real registry on loopback; the platform package is published first, as a release does.
  const registryDir = join(tmp, 'registry');
  const server = await startRegistry(registryDir);
  try {
    const registry = `http://127.0.0.1:${server.address().port}/`;
    log(`verdaccio listening on ${registry} (storage ${join(registryDir, 'storage')})`);
    // verdaccio accepts any token for `publish: $all`; npm just refuses to publish without one.
    await writeFile(npmrc, `registry=${registry}\n//127.0.0.1:${server.address().port}/:_authToken=e2e-dummy-token\n`);
    for (const [what, tarball] of [
      [hostPackage, platformTarball],
      [pkg.name, rootTarball],
    ]) {
      await mustRun(
        `publish ${what}@${pkg.version} to the test registry`,
        process.execPath,
        [npm, 'publish', tarball, '--ignore-scripts', '--tag', 'latest'],
        {
          cwd: packs,
          env: baseEnv,
          timeoutMs: NPM_TIMEOUT_MS,
        },
      );
    }
    // Consumers: no cargo, no rustc.
    await installAndCheck(context);
  } finally {
    await stopRegistry(server);
    log('verdaccio stopped');
  }
}

/**
 * The release configuration agrees with itself: one npm/<platform> package per napi target, named
 * and constrained the way napi-rs' loader and npm's platform filtering expect, and a release
 * workflow that builds and tests every target.
 */
async function checkReleaseConfig(pkg) {
  const { parseTriple } = await import(requireFromRoot.resolve('@napi-rs/cli'));
  const { load } = requireFromRoot('js-yaml');
  const targets = pkg.napi.targets.map((triple) => parseTriple(triple));
  const libcOf = { gnu: ['glibc'], musl: ['musl'] };
  for (const t of targets) {
    const file = join(ROOT, 'npm', t.platformArchABI, 'package.json');
    check(`release config: npm/${t.platformArchABI}/package.json exists for ${t.triple}`, existsSync(file));
    const p = JSON.parse(await readFile(file, 'utf8'));
    const main = `${pkg.napi.binaryName}.${t.platformArchABI}.node`;
    const expected = {
      name: `${pkg.name}-${t.platformArchABI}`,
      version: pkg.version,
      os: [t.platform],
      cpu: [t.arch],
      libc: t.platform === 'linux' ? libcOf[t.abi] : undefined,
      main,
      files: [main],
      engines: pkg.engines,
    };
    const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, p[k]]));
    check(
      `release config: ${expected.name} has matching name/version/os/cpu/libc/main/files/engines`,
      isDeepStrictEqual(actual, expected),
      { actual, expected },
    );
  }
  const dirs = readdirSync(join(ROOT, 'npm')).sort();
  const abis = targets.map((t) => t.platformArchABI).sort();
  check(
    `release config: npm/ holds exactly the napi targets' packages (${abis.join(', ')})`,
    isDeepStrictEqual(dirs, abis),
    dirs,
  );

  const workflow = load(await readFile(join(ROOT, '.github', 'workflows', 'release.yml'), 'utf8'));
  const triples = pkg.napi.targets.slice().sort();
  const matrixTargets = (job) => (workflow.jobs[job]?.strategy?.matrix?.settings ?? []).map((s) => s.target);
  const built = matrixTargets('build').sort();
  check('release config: release.yml builds every napi target', isDeepStrictEqual(built, triples), { built, triples });
  const tested = [...new Set([...matrixTargets('test'), ...matrixTargets('test-musl')])].sort();
  check('release config: release.yml tests every napi target on a runner of its own', isDeepStrictEqual(tested, triples), {
    tested,
    triples,
  });
  check(
    'release config: prepublishOnly runs napi pre-publish',
    /\bnapi pre-publish\b/.test(pkg.scripts?.prepublishOnly ?? ''),
    pkg.scripts,
  );
}

function checkRootFiles(what, files) {
  const nodeFiles = files.filter((f) => f.endsWith('.node'));
  const rust = files.filter(isRustSource);
  log(`${what}: ${files.length} files: ${files.join(', ')}`);
  check(`${what}: no .node file`, nodeFiles.length === 0, nodeFiles);
  check(`${what}: no Rust source (*.rs, Cargo.*, crates/)`, rust.length === 0, rust);
  for (const required of ['dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'native/binding.cjs', 'native/binding.d.ts']) {
    check(`${what}: has ${required}`, files.includes(required));
  }
}

const tmp = await mkdtemp(join(tmpdir(), 'napi-mp-e2e-'));
let cleanedUp = false;
async function cleanUp() {
  if (cleanedUp) return;
  cleanedUp = true;
  if (process.env.E2E_KEEP === '1') {
    log(`kept ${tmp} (E2E_KEEP=1)`);
    return;
  }
  await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  log(`removed ${tmp}`);
}
// Ctrl-C or a CI kill still stops the registry (it lives in this process) and removes its files.
// `on`, not `once`: a dependency of verdaccio (signal-exit) re-raises the signal as soon as it
// finds itself the only listener left, which would kill the process mid-cleanup.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => abort(`received ${signal}`));
const watchdog = setTimeout(() => abort(`took longer than ${WATCHDOG_MS / 1000}s`), WATCHDOG_MS);

let exitCode = 0;
try {
  log(`temp dir ${tmp}`);
  await main(tmp);
} catch (error) {
  exitCode = 1;
  if (!(error instanceof CheckFailed)) {
    failed++;
    log(`FAIL unexpected error: ${error?.stack ?? error}`);
  }
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
if (abortReason) {
  exitCode = 1;
  failed = Math.max(failed, 1);
}
log(`done in ${elapsed()}`);
console.log(`e2e install: ${passed} passed, ${failed} failed`);
// verdaccio keeps timers of its own; the verdict is in, so do not wait on them.
process.exit(exitCode || (failed > 0 ? 1 : 0));
