#!/usr/bin/env node
// Builds the runnable CLI into dist/ (run by `npm ci`/`npm install` after the native kernels, and by
// `npm run build`): tsc compiles src/ and migrations/ (type-checked; `.ts` import specifiers rewritten to
// `.js`), the files the code reads beside itself are copied over (GraphQL SDL, the web UI, the native
// kernels), and the command index that keeps `discograph --help` from loading every command is written.
// `--assets` only copies the files (after `npm run build:native`). Any failure exits non-zero.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dist = path.join(root, 'dist')

// The C++ of the native kernels is built, not read; a `.js` beside a `.ts` of the same name is a worker's
// TypeScript loader for running from source, replaced in dist/ by the compiled worker itself.
const NOT_ASSETS = new Set(['.ts', '.cc', '.h'])
function isAsset(file) {
  const ext = path.extname(file)
  if (NOT_ASSETS.has(ext) || path.basename(file) === '.gitignore') return false
  return !(ext === '.js' && fs.existsSync(file.slice(0, -3) + '.ts'))
}

function copyAssets(from, to) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name)
    const dst = path.join(to, entry.name)
    if (entry.isDirectory()) copyAssets(src, dst)
    else if (isAsset(src)) {
      fs.mkdirSync(to, { recursive: true })
      fs.copyFileSync(src, dst)
    }
  }
}

if (!process.argv.includes('--assets')) {
  fs.rmSync(dist, { recursive: true, force: true })
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc')
  if (!fs.existsSync(tsc)) {
    console.error(
      'build: no TypeScript (a devDependency): install with them, `npm ci` without --omit=dev, then prune',
    )
    process.exit(1)
  }
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  })
}
copyAssets(path.join(root, 'src'), path.join(dist, 'src'))
if (!process.argv.includes('--assets')) {
  // In a child process: listing the commands loads every command module (TensorFlow.js among them).
  const code = `
    import fs from 'node:fs'
    import 'reflect-metadata'
    import { Command } from 'commander'
    import { indexCommands, COMMAND_INDEX_FILE } from './src/cli/command-index.js'
    import { ALL_COMMANDS, registerCommands } from './src/cli/command-modules.js'
    const program = new Command()
    await registerCommands(program, ALL_COMMANDS, () => { throw new Error('no context while indexing') })
    fs.writeFileSync('src/cli/' + COMMAND_INDEX_FILE, JSON.stringify(indexCommands(program), null, 1) + '\\n')
    process.exit(0)`
  execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: dist, stdio: 'inherit' })
}
console.error(`build: ${path.relative(root, dist)}/ ready`)
