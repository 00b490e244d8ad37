import { createRequire } from 'node:module'
import path from 'node:path'

const require = createRequire(import.meta.url)

/**
 * GraphiQL served from npm packages (no CDN: the IDE must work offline). Its UMD build needs React 18's
 * UMD builds, which React 19 no longer ships; hence the pinned majors.
 */
export const graphiqlAssets: Record<string, { file: string; type: string }> = {
  'react.production.min.js': {
    file: path.join(path.dirname(require.resolve('react/package.json')), 'umd/react.production.min.js'),
    type: 'text/javascript',
  },
  'react-dom.production.min.js': {
    file: path.join(
      path.dirname(require.resolve('react-dom/package.json')),
      'umd/react-dom.production.min.js',
    ),
    type: 'text/javascript',
  },
  'graphiql.min.js': {
    file: path.join(path.dirname(require.resolve('graphiql/package.json')), 'graphiql.min.js'),
    type: 'text/javascript',
  },
  'graphiql.min.css': {
    file: path.join(path.dirname(require.resolve('graphiql/package.json')), 'graphiql.min.css'),
    type: 'text/css',
  },
}

/** The GraphiQL page, opening on `defaultQuery` (graphiqlDefaultQuery names something this catalog holds). */
export function graphiqlPage(endpoint: string, defaultQuery: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Discograph GraphiQL</title>
<link rel="stylesheet" href="/vendor/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="/vendor/react.production.min.js"></script>
<script src="/vendor/react-dom.production.min.js"></script>
<script src="/vendor/graphiql.min.js"></script>
<script>
  const fetcher = GraphiQL.createFetcher({ url: ${JSON.stringify(endpoint)}, headers: { 'apollo-require-preflight': 'true' } });
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, { fetcher, defaultQuery: ${JSON.stringify(defaultQuery).replaceAll('<', '\\u003c')}, headerEditorEnabled: true, shouldPersistHeaders: true }),
  );
</script>
</body>
</html>`
}
