import fs from 'node:fs'
import path from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../support/cli.ts'

/**
 * The layering rule (docs/architecture.md, "Layers"): resolvers, the HTTP API, CLI commands and jobs call
 * services; only services reach repositories; SQL is written only under src/db; `audio/` is decoding and
 * math, with no database or model in it, and `ml/` has no database in it. Read with TypeScript's own
 * parser, so a comment or a word in prose never counts and a multi-line or `import type` always does.
 */

/** Above the services: the callers of services. */
const ABOVE_SERVICES = ['src/resolvers', 'src/api', 'src/cli', 'src/jobs']

/** Which folders may not import from which, and what to do instead. */
interface ImportRule {
  from: string[]
  /** a folder (ending in /) or a file */
  to: string
  instead: string
}

const IMPORT_RULES: ImportRule[] = [
  { from: ABOVE_SERVICES, to: 'src/db/repositories/', instead: 'call a service' },
  // Nothing above the services needs ingest/ itself: the import service re-exports the summaries' types
  // and the parse workers' default that `ingest discogs --help` shows.
  {
    from: ABOVE_SERVICES,
    to: 'src/ingest/',
    instead: 'call the import service (services/import.service.ts)',
  },
  { from: ['src/audio'], to: 'src/db/', instead: 'read the rows in a service and hand audio/ the values' },
  { from: ['src/audio'], to: 'src/ml/', instead: 'adapt audio/ to the models in a service' },
  // The models and their training take arrays and sources: a repository may store what they define (a
  // type import), never the other way round.
  { from: ['src/ml'], to: 'src/db/', instead: 'define the type in ml/, or read the rows in a service' },
]

/** The one place SQL is written (repositories, and the database's own plumbing: migrations lock, change feed). */
const SQL_HOME = 'src/db/'

/** A statement's opening words, upper case as this codebase writes SQL (a prose "select" is not SQL). */
const SQL =
  /\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|(CREATE|ALTER|DROP)\s+(TEMP\s+|UNIQUE\s+)?(TABLE|INDEX|VIEW|MATERIALIZED\s+VIEW|EXTENSION)|TRUNCATE|(UN)?LISTEN|NOTIFY|BEGIN|COMMIT|ROLLBACK|VACUUM|ANALYZE)\b/

export interface Violation {
  file: string
  line: number
  what: string
}

/** What in one source file breaks the rule: an import a rule forbids, SQL outside src/db. */
export function violationsIn(file: string, text: string): Violation[] {
  const rules = IMPORT_RULES.filter((r) => r.from.some((dir) => file.startsWith(dir + '/')))
  const checkImports = rules.length > 0
  const checkSql = !file.startsWith(SQL_HOME)
  // Parsing is what costs (2 s of CPU for all of src/); a file whose text holds neither a forbidden folder's
  // name nor SQL can hold no violation.
  const named = rules.some((r) => text.includes(path.posix.basename(r.to)))
  if (!named && !(checkSql && SQL.test(text))) return []
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: Violation[] = []
  const at = (node: ts.Node, what: string) =>
    found.push({
      file,
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
      what,
    })
  const imported = (node: ts.Node, specifier: string) => {
    if (!specifier.startsWith('.')) return
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier))
    const rule = rules.find((r) => (r.to.endsWith('/') ? target.startsWith(r.to) : target === r.to))
    if (rule) at(node, `imports ${target}: ${rule.instead}`)
  }
  const sql = (node: ts.Node, literal: string) => {
    const m = SQL.exec(literal)
    if (m) at(node, `SQL (${m[0]}): ${literal.trim().split('\n')[0].slice(0, 60)}`)
  }
  const visit = (node: ts.Node): void => {
    if (checkImports) {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier)
        imported(node, (node.moduleSpecifier as ts.StringLiteral).text)
      else if (
        ts.isCallExpression(node) &&
        node.expression.kind === ts.SyntaxKind.ImportKeyword &&
        node.arguments[0] &&
        ts.isStringLiteralLike(node.arguments[0])
      )
        imported(node, node.arguments[0].text)
      else if (
        ts.isImportTypeNode(node) &&
        ts.isLiteralTypeNode(node.argument) &&
        ts.isStringLiteral(node.argument.literal)
      )
        imported(node, node.argument.literal.text)
    }
    if (checkSql) {
      // an import's specifier is a string too, but never SQL
      if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return
      if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) sql(node, node.text)
      else if (ts.isTemplateExpression(node))
        sql(node, [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? '))
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => path.relative(REPO_ROOT, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort()
}

const list = (vs: Violation[]) => vs.map((v) => `${v.file}:${v.line} ${v.what}`)

describe('layering', () => {
  it('finds repository imports above the services, and SQL outside src/db, in every form', () => {
    const bad = violationsIn(
      'src/resolvers/x.ts',
      [
        `import { A } from '../db/repositories/a.repository.ts'`,
        `import type {`,
        `  B,`,
        `} from '../db/repositories/b.repository.ts'`,
        `export type { C } from '../db/repositories/c.repository.ts'`,
        `const d = await import('../db/repositories/d.repository.ts')`,
        `let e: import('../db/repositories/e.repository.ts').E`,
        `await pool.query('SELECT 1')`,
        'await pool.query(`INSERT INTO job (id) VALUES ($1)`, [id])',
        'await pool.query(`UPDATE job SET state = ${state} WHERE id = $1`, [id])',
        `await client.query('BEGIN')`,
      ].join('\n'),
    )
    expect(bad.map((v) => v.line)).toEqual([1, 2, 5, 6, 7, 8, 9, 10, 11])
    expect(bad[1].what).toBe('imports src/db/repositories/b.repository.ts: call a service')
    expect(bad[5].what).toMatch(/^SQL \(SELECT\)/)
  })

  it('passes services, prose, comments and other folders', () => {
    expect(
      violationsIn(
        'src/resolvers/x.ts',
        [
          `import { S } from '../services/s.service.ts'`,
          `import { Q } from '../db/sql.ts'`,
          `// SELECT * FROM job: comments are not SQL`,
          `throw new Error('select a model, then update the page')`,
        ].join('\n'),
      ),
    ).toEqual([])
    // services may import repositories; repositories hold the SQL
    expect(violationsIn('src/services/s.service.ts', `import { R } from '../db/repositories/r.ts'`)).toEqual(
      [],
    )
    expect(violationsIn('src/db/repositories/r.ts', `await pool.query('SELECT 1')`)).toEqual([])
    // SQL is refused everywhere outside src/db, services included
    expect(violationsIn('src/services/s.service.ts', `await pool.query('SELECT 1')`)).toHaveLength(1)
  })

  it('sends the CLI and the jobs to the import service, not into ingest/', () => {
    const text = [
      `import { importDiscogsDumps } from '../../services/import.service.ts'`,
      `import { importAudio } from '../../ingest/audio/import.ts'`,
      `import type { ImportSummary } from '../../ingest/discogs/import.ts'`,
    ].join('\n')
    const want = [2, 3]
    expect(violationsIn('src/cli/commands/x.ts', text).map((v) => v.line)).toEqual(want)
    expect(violationsIn('src/jobs/handlers/x.ts', text).map((v) => v.line)).toEqual(want)
    expect(violationsIn('src/services/import.service.ts', text.replaceAll('../../', '../'))).toEqual([])
  })

  it('keeps audio/ free of the database and the models, and ml/ of the database', () => {
    const text = [
      `import { MEL_BANDS } from './mel.ts'`,
      `import { AudioDecodeError } from '../errors.ts'`,
      `import type { Database } from '../db/database.ts'`,
      `import { AudioFileRepository } from '../db/repositories/audio-file.repository.ts'`,
      `import type { PatchSource } from '../ml/training/trainer.ts'`,
    ].join('\n')
    expect(violationsIn('src/audio/x.ts', text).map((v) => v.what)).toEqual([
      'imports src/db/database.ts: read the rows in a service and hand audio/ the values',
      'imports src/db/repositories/audio-file.repository.ts: read the rows in a service and hand audio/ the values',
      'imports src/ml/training/trainer.ts: adapt audio/ to the models in a service',
    ])
    expect(violationsIn('src/services/patch-source.ts', text)).toEqual([])
    expect(
      violationsIn('src/ml/training/x.ts', `import type { E } from '../../db/repositories/r.ts'`),
    ).toHaveLength(1)
  })

  it('holds in src/: no import a rule forbids, no SQL outside src/db', () => {
    const violations = sourceFiles('src').flatMap((file) =>
      violationsIn(file, fs.readFileSync(path.join(REPO_ROOT, file), 'utf8')),
    )
    expect(list(violations), 'docs/architecture.md, "Layers"').toEqual([])
  })
})
