import type { Command } from 'commander';
import { registerGenerate } from './strategy-generate.js';
import { registerGate } from './strategy-gate.js';

/**
 * Registers `tradeforge strategy new NAME`, `strategy check FILE`, `strategy generate` and the stored strategies:
 * `strategy import`, `list`, `show`, `versions`, `diff`.
 */
export function register(program: Command): void {
  const cmd = program.command('strategy').description('write and check your own strategy files');
  cmd
    .command('new <name>')
    .description('write NAME.ts, an SMA-crossover strategy file that runs as is (and a tsconfig.json for the editor)')
    .option('--dir <folder>', 'folder to write into (default: the working folder)')
    .action(async (name: string, o: { dir?: string }) => {
      const { existsSync, mkdirSync } = await import('node:fs');
      const { resolve } = await import('node:path');
      const { ValidationError } = await import('../../core/errors.js');
      const { writeTextAtomic } = await import('../../backtest/report/write.js');
      const tpl = await import('../../authoring/files/template.js');
      const dir = resolve(o.dir ?? '.');
      const file = tpl.strategyFilePath(dir, tpl.checkStrategyName(name));
      if (existsSync(file)) throw new ValidationError(`${file} already exists: choose another name`, 'name');
      mkdirSync(dir, { recursive: true });
      writeTextAtomic(file, tpl.strategyTemplate(name));
      const tsconfig = resolve(dir, 'tsconfig.json');
      const wroteConfig = !existsSync(tsconfig);
      if (wroteConfig) writeTextAtomic(tsconfig, tpl.strategyTsconfig(dir));
      process.stdout.write(
        `wrote ${file}${wroteConfig ? ` and ${tsconfig}` : ''}\n` +
          `try: tradeforge backtest --strategy ${file} --data data/sample/sp500_2000.csv\n`,
      );
    });
  registerGenerate(cmd);
  cmd
    .command('check <file>')
    .description('run the safety gate (and the compiler) on a strategy file and print every finding')
    .action(async (file: string) => {
      const { readFileSync, existsSync } = await import('node:fs');
      const { ValidationError } = await import('../../core/errors.js');
      const { strategySourceKind, compileStrategySource, isCodeKind } = await import('../../authoring/resolve.js');
      const { checkSource, formatFindings } = await import('../../authoring/gate/check.js');
      const kind = strategySourceKind(file);
      if (!existsSync(file)) throw new ValidationError(`strategy file ${file} not found`, 'file');
      const source = readFileSync(file, 'utf8');
      if (isCodeKind(kind)) {
        const gate = checkSource(source, file);
        if (!gate.ok) {
          process.stdout.write(`${formatFindings(file, gate.findings)}\n${file}: refused (${gate.findings.length})\n`);
          process.exitCode = 1;
          return;
        }
      }
      // The gate passed (or the kind has no code): compiling proves the file defines a usable strategy.
      const def = compileStrategySource(source, kind, file);
      const params = def.params.map((p) => `${p.name}=${String(p.default)}`).join(' ');
      process.stdout.write(`${file}: ok, strategy ${def.name}${params ? ` (params ${params})` : ''}\n`);
    });
  registerStored(cmd);
  registerGate(cmd);
}

async function withStore(fn: (store: import('../../store/store.js').Store) => Promise<void>): Promise<void> {
  const { openConfiguredStore } = await import('../../app/open-store.js');
  const { store } = await openConfiguredStore();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const day = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/** `strategy import|list|show|versions|diff`: strategies stored as numbered, immutable versions (DEPLOY-1). */
function registerStored(cmd: Command): void {
  cmd
    .command('import [file]')
    .description('store a strategy file as a new version (gate and compiler first); prints ID@vN')
    .option('--rules <file>', 'a rule-language file (any extension)')
    .option('--pine <file>', 'a Pine Script file (any extension)')
    .option('--id <id>', 'the strategy id (default: from the strategy name)')
    .option('--note <text>', 'a note kept with the version')
    .action(async (file: string | undefined, o: { rules?: string; pine?: string; id?: string; note?: string }) => {
      const { ValidationError } = await import('../../core/errors.js');
      const given = [file, o.rules, o.pine].filter((x) => x !== undefined);
      if (given.length !== 1) {
        throw new ValidationError('strategy import takes one of FILE, --rules FILE or --pine FILE', 'file');
      }
      const { importStrategyVersion } = await import('../../app/strategy-catalogue.js');
      await withStore(async (store) => {
        const r = await importStrategyVersion(store, {
          file: (o.rules ?? o.pine ?? file) as string,
          ...(o.rules ? { kind: 'rules' as const } : o.pine ? { kind: 'pine' as const } : {}),
          ...(o.id ? { id: o.id } : {}),
          ...(o.note ? { note: o.note } : {}),
        });
        process.stdout.write(
          r.added
            ? `stored ${r.id}@v${r.version} (${r.kind}, strategy ${r.name}, sha256 ${r.hash.slice(0, 16)}, draft)\n`
            : `unchanged: ${r.id}@v${r.version} already holds this source (sha256 ${r.hash.slice(0, 16)})\n`,
        );
      });
    });
  cmd
    .command('list')
    .description('stored strategies: id, kind, state, latest version')
    .action(async () => {
      await withStore(async (store) => {
        const rows = await store.strategies.list();
        if (rows.length === 0) {
          process.stdout.write('no stored strategies (tradeforge strategy import FILE)\n');
          return;
        }
        for (const s of rows) {
          const latest = (await store.strategies.versions(s.id)).at(-1);
          process.stdout.write(
            `${s.id.padEnd(24)} ${s.kind.padEnd(6)} ${s.state.padEnd(8)} v${latest?.version ?? 0}  ${s.name}\n`,
          );
        }
      });
    });
  cmd
    .command('show <id>')
    .description('a stored strategy (ID) or one version (ID@vN): details and source')
    .action(async (ref: string) => {
      const { ValidationError } = await import('../../core/errors.js');
      const { parseVersionRef } = await import('../../authoring/versions.js');
      await withStore(async (store) => {
        const r = parseVersionRef(ref);
        const id = r?.id ?? ref;
        const s = await store.strategies.get(id);
        if (s === undefined) throw new ValidationError(`no stored strategy ${id} (tradeforge strategy list)`, 'id');
        const versions = await store.strategies.versions(id);
        const v = r === undefined ? versions.at(-1) : versions.find((x) => x.version === r.version);
        if (v === undefined) throw new ValidationError(`strategy ${id} has no version ${ref}`, 'version');
        const gate = v.gate === null ? null : (JSON.parse(v.gate) as { ok: boolean; findings: unknown[] });
        process.stdout.write(
          `${id}@v${v.version}  ${s.name} (${v.source_kind ?? s.kind}, ${v.state})\n` +
            `  stored   ${day(v.created_at)}${v.note ? `  note: ${v.note}` : ''}\n` +
            `  sha256   ${v.source_hash}\n` +
            `  gate     ${gate === null ? 'not recorded' : gate.ok ? 'passed' : `refused (${gate.findings.length})`}\n` +
            `  params   ${v.params}\n` +
            `  versions ${versions.map((x) => `v${x.version}`).join(' ')}\n\n${v.source}${v.source.endsWith('\n') ? '' : '\n'}`,
        );
      });
    });
  cmd
    .command('versions <id>')
    .description('the versions of a stored strategy, oldest first')
    .action(async (id: string) => {
      const { ValidationError } = await import('../../core/errors.js');
      await withStore(async (store) => {
        const versions = await store.strategies.versions(id);
        if (versions.length === 0)
          throw new ValidationError(`no stored strategy ${id} (tradeforge strategy list)`, 'id');
        for (const v of versions) {
          process.stdout.write(
            `${`${id}@v${v.version}`.padEnd(28)} ${day(v.created_at)}  ${v.source_hash.slice(0, 16)}  ${v.note ?? ''}\n`,
          );
        }
      });
    });
  cmd
    .command('diff <id> <v1> <v2>')
    .description('line diff of two versions of a stored strategy (v1 and v2 as 1, v1, ...)')
    .action(async (id: string, a: string, b: string) => {
      const { ValidationError } = await import('../../core/errors.js');
      const { diffSources } = await import('../../authoring/versions.js');
      const num = (x: string) => {
        const n = Number(x.replace(/^v/, ''));
        if (!Number.isInteger(n) || n < 1)
          throw new ValidationError(`version "${x}": use a number such as 2 or v2`, 'version');
        return n;
      };
      await withStore(async (store) => {
        const [va, vb] = await Promise.all([
          store.strategies.version(id, num(a)),
          store.strategies.version(id, num(b)),
        ]);
        if (va === undefined) throw new ValidationError(`no stored version ${id}@v${num(a)}`, 'version');
        if (vb === undefined) throw new ValidationError(`no stored version ${id}@v${num(b)}`, 'version');
        process.stdout.write(`${diffSources(va.source, vb.source, `${id}@v${va.version}`, `${id}@v${vb.version}`)}\n`);
      });
    });
}
