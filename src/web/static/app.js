// Discograph web UI: plain ES modules, no build step, no external requests (works offline).
// Every GraphQL document the UI sends is in QUERIES, so schema changes are made in one place.

const TRACK_FIELDS = `id title position duration audio { url } release { discogsId title year styles { name } artists { name } }`
const QUERIES = {
  search: `query Search($q: String!, $first: Int, $types: [SearchType!]) {
    search(query: $q, first: $first, types: $types) { edges { score text node { __typename
      ... on Artist { discogsId }
      ... on Label { discogsId }
      ... on Release { discogsId year country }
      ... on Master { discogsId year }
      ... on Track { id audio { url } release { discogsId title } }
    } } } }`,
  release: `query Release($id: Int!) { release(discogsId: $id) { id discogsId title year country released notes
    styles { name } genres { name }
    artists { name artist { discogsId name } }
    labels { catalogNumber label { discogsId name } }
    tracks(first: 100) { edges { node { id position title duration type audio { url } } } } } }`,
  artist: `query Artist($id: Int!) { artist(discogsId: $id) { id discogsId name realName profile
    releases(first: 50) { totalCount edges { node { discogsId title year } } } } }`,
  label: `query Label($id: Int!) { label(discogsId: $id) { id discogsId name profile
    releases(first: 50) { totalCount edges { node { discogsId title year } } } } }`,
  track: `query Track($id: ID!) { track(id: $id) { ${TRACK_FIELDS} } }`,
  similar: `query Similar($id: ID!, $first: Int, $model: String, $filter: SimilarityFilter) {
    similarTracks(track: $id, first: $first, model: $model, filter: $filter) { similarity track { ${TRACK_FIELDS} } } }`,
  /** One track's scores by several probes in one request: an aliased field per probe. */
  predictions: (n) =>
    `query Predictions($id: ID!, ${Array.from({ length: n }, (_, i) => `$p${i}: String!`).join(', ')}) { ${Array.from({ length: n }, (_, i) => `p${i}: predictions(track: $id, probe: $p${i}) { scores { class score } probe { name task } }`).join(' ')} }`,
  mix: `query Mix($id: ID!, $model: String) { instantMix(seeds: [$id], first: 25, model: $model) { tracks { similarity track { ${TRACK_FIELDS} } } } }`,
  path: `query Path($from: ID!, $to: ID!, $model: String) { trackPath(from: $from, to: $to, steps: 12, model: $model) {
    shortened reason steps { similarityToEnd track { ${TRACK_FIELDS} } } } }`,
  library: `query { library { releases artists tracks tracksWithAudio exact startTracks(first: 6) { ${TRACK_FIELDS} } } }`,
  models: `query { models { name kind association embedded
    retrieval { k spaces { space transform figures { relation precision chance lift } } baseline { relation precision lift } } }
    probes { name task } }`,
  map: `query Map($model: String, $colorBy: MapColor) { embeddingMap(model: $model, colorBy: $colorBy) {
    points { x y group track { id title } } groups } }`,
  runs: `query { trainingRuns { name association status step totalSteps backend
    history { step loss valPrecision valChance valTop1 samplesPerS } } }`,
  jobs: `query { jobs(first: 50) { edges { node { id name state progress etaSeconds message error attempts createdAt } } } }`,
  cancel: `mutation($id: ID!) { cancelJob(id: $id) { id state } }`,
  retry: `mutation($id: ID!) { retryJob(id: $id) { id state } }`,
  embed: `mutation($model: String!) { embed(model: $model) { id state } }`,
}

const view = document.getElementById('view')
const keyInput = document.getElementById('apikey')
keyInput.value = localStorage.getItem('discograph.key') ?? ''
document.getElementById('signin').addEventListener('submit', (e) => {
  e.preventDefault()
  localStorage.setItem('discograph.key', keyInput.value.trim())
  document.getElementById('signin-button').textContent = keyInput.value.trim() ? 'Signed in' : 'Sign in'
  route()
})
if (keyInput.value) document.getElementById('signin-button').textContent = 'Signed in'

async function gql(query, variables = {}) {
  const headers = { 'content-type': 'application/json' }
  const key = localStorage.getItem('discograph.key')
  if (key) headers.authorization = `Bearer ${key}`
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) })
  const body = await res.json()
  if (body.errors?.length)
    throw new Error(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '))
  return body.data
}

const esc = (s) =>
  String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  )
const dur = (s) => (s == null ? '' : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`)
const names = (credits) => (credits ?? []).map((c) => c.name).join(', ')
const player = (t) => (t.audio ? `<audio controls preload="none" src="${esc(t.audio.url)}"></audio>` : '')
/**
 * A model's measured retrieval (style precision@k of its default space, and the lift over chance beside the
 * no-learning baseline's), so that a user picks by what the model is worth.
 */
const modelFigure = (m) => {
  const space =
    m.retrieval?.spaces.find((s) => s.space === (m.embedded.projection ? 'PROJECTION' : 'BACKBONE')) ??
    m.retrieval?.spaces[0]
  const style = space?.figures.find((f) => f.relation === 'style')
  const base = m.retrieval?.baseline?.find((f) => f.relation === 'style')
  return style
    ? `style P@${m.retrieval.k} ${(style.precision * 100).toFixed(0)}% (${style.lift.toFixed(1)}× chance${base ? `; no-learning baseline ${base.lift.toFixed(1)}×` : ''})`
    : 'not evaluated yet'
}
/** A model's choice in a select, with its figure beside its name. */
const modelOption = (m) => `<option value="${esc(m.name)}">${esc(`${m.name} — ${modelFigure(m)}`)}</option>`
/** Models that can answer similarity questions: those with vectors. */
const embedded = (models) => models.filter((m) => Object.values(m.embedded).some((n) => n > 0))
const showError = (err) => (view.innerHTML = `<div class="error">${esc(err.message)}</div>`)

const routes = [
  [/^#\/?$/, searchPage],
  [/^#\/release\/(\d+)$/, releasePage],
  [/^#\/artist\/(\d+)$/, artistPage],
  [/^#\/label\/(\d+)$/, labelPage],
  [/^#\/track\/(.+)$/, trackPage],
  [/^#\/map$/, mapPage],
  [/^#\/training$/, trainingPage],
  [/^#\/jobs$/, jobsPage],
]

let timer
async function route() {
  clearInterval(timer)
  const hash = location.hash || '#/'
  for (const [re, page] of routes) {
    const m = hash.split('?')[0].match(re)
    if (m) {
      view.innerHTML = '<p class="muted">Loading…</p>'
      try {
        await page(...m.slice(1).map(decodeURIComponent))
      } catch (err) {
        showError(err)
      }
      return
    }
  }
  view.innerHTML = '<p>Not found.</p>'
}
window.addEventListener('hashchange', route)

function hitLink(e) {
  const n = e.node
  switch (n.__typename) {
    case 'Artist':
      return `<a href="#/artist/${n.discogsId}">${esc(e.text)}</a> <span class="muted">artist</span>`
    case 'Label':
      return `<a href="#/label/${n.discogsId}">${esc(e.text)}</a> <span class="muted">label</span>`
    case 'Release':
      return `<a href="#/release/${n.discogsId}">${esc(e.text)}</a> <span class="muted">release · ${esc(n.year ?? '')} ${esc(n.country ?? '')}</span>`
    case 'Master':
      return `${esc(e.text)} <span class="muted">master · ${esc(n.year ?? '')}</span>`
    case 'Track':
      return `<a href="#/track/${encodeURIComponent(n.id)}">${esc(e.text)}</a> <span class="muted">track on <a href="#/release/${n.release.discogsId}">${esc(n.release.title)}</a></span>`
    default:
      return esc(e.text)
  }
}

async function searchPage() {
  const q = new URLSearchParams(location.hash.split('?')[1] ?? '').get('q') ?? ''
  view.innerHTML = `<form class="searchbar" id="search"><input id="q" name="q" placeholder="Search artists, labels, releases, tracks…" value="${esc(q)}" autofocus />
    <button class="primary" type="submit">Search</button></form><div id="results"></div>`
  document.getElementById('search').addEventListener('submit', (e) => {
    e.preventDefault()
    location.hash = `#/?q=${encodeURIComponent(document.getElementById('q').value)}`
  })
  if (!q) return showLibrary()
  const { search } = await gql(QUERIES.search, { q, first: 30 })
  document.getElementById('results').innerHTML = search.edges.length
    ? `<table id="hits"><tr><th>Result</th><th>Score</th></tr>${search.edges
        .map((e) => `<tr><td>${hitLink(e)}</td><td class="score">${e.score.toFixed(3)}</td></tr>`)
        .join('')}</table>`
    : '<p class="muted">No matches.</p>'
}

/** The landing page below the search box: the library at a glance, the models and what they are worth, tracks to start from. */
async function showLibrary() {
  const [{ library: l }, { models }] = await Promise.all([gql(QUERIES.library), gql(QUERIES.models)])
  const n = (x) => `${l.exact ? '' : '~'}${x.toLocaleString('en')}`
  document.getElementById('results').innerHTML = `<div class="grid">
    <div class="card"><h3>Library</h3><p id="counts" class="counts">
      <span><b data-count="releases">${n(l.releases)}</b> releases</span>
      <span><b data-count="artists">${n(l.artists)}</b> artists</span>
      <span><b data-count="tracks">${n(l.tracks)}</b> tracks</span>
      <span><b data-count="tracksWithAudio">${l.tracksWithAudio.toLocaleString('en')}</b> with audio</span></p>
      <h3>Models</h3>${
        embedded(models).length
          ? `<ul id="model-figures">${embedded(models)
              .map(
                (m) =>
                  `<li><b>${esc(m.name)}</b> <span class="muted">${esc(m.kind)}</span> — ${esc(modelFigure(m))}</li>`,
              )
              .join('')}</ul>`
          : '<p class="muted">No embedded models yet: run <code>discograph embed</code>.</p>'
      }</div>
    <div class="card"><h3>Start from</h3>${
      l.startTracks.length
        ? `<ul id="start-tracks">${l.startTracks
            .map(
              (t) => `<li><a href="#/track/${encodeURIComponent(t.id)}">${esc(t.title)}</a>
      <span class="muted">${esc(names(t.release.artists))} · ${esc(t.release.title)}</span></li>`,
            )
            .join('')}</ul>`
        : '<p class="muted">No tracks with audio yet: run <code>discograph ingest audio</code>.</p>'
    }</div></div>`
}

/**
 * Plays `tracks` in order in one <audio> element, moving to the next when one ends; the list shows which is
 * playing and a click jumps to a track. Tracks without audio are left out.
 */
function playQueue(target, title, tracks, note = '') {
  const queue = tracks.filter((t) => t.audio)
  target.innerHTML = `<h2>${esc(title)}</h2>${note}<audio id="queue-player" controls preload="none"></audio>
    <ol id="queue-list">${queue
      .map(
        (t, i) => `<li data-i="${i}"><a href="#/track/${encodeURIComponent(t.id)}">${esc(t.title)}</a>
      <span class="muted">${esc(names(t.release.artists))} · ${t.release.styles.map((x) => esc(x.name)).join(', ')}</span>
      ${t.score != null ? `<span class="score muted">${t.score.toFixed(2)}</span>` : ''} <button type="button" data-play="${i}">▶</button></li>`,
      )
      .join('')}</ol>`
  const audio = document.getElementById('queue-player')
  let at = -1
  const play = (i) => {
    if (i >= queue.length) return
    at = i
    audio.src = queue[i].audio.url
    target
      .querySelectorAll('#queue-list li')
      .forEach((li) => li.classList.toggle('playing', Number(li.dataset.i) === i))
    audio.play().catch(() => undefined) // a browser may refuse to start without a gesture; the controls remain
  }
  audio.addEventListener('ended', () => play(at + 1))
  target
    .querySelectorAll('[data-play]')
    .forEach((b) => b.addEventListener('click', () => play(Number(b.dataset.play))))
  play(0)
}

async function releasePage(id) {
  const { release: r } = await gql(QUERIES.release, { id: Number(id) })
  const tracks = r.tracks.edges.map((e) => e.node)
  view.innerHTML = `<h1>${esc(r.title)}</h1>
    <p>${r.artists.map((c) => (c.artist ? `<a href="#/artist/${c.artist.discogsId}">${esc(c.name)}</a>` : esc(c.name))).join(', ')}
    · ${r.labels.map((l) => (l.label ? `<a href="#/label/${l.label.discogsId}">${esc(l.label.name)}</a> ${esc(l.catalogNumber ?? '')}` : esc(l.catalogNumber))).join(', ')}
    · ${esc(r.country ?? '')} ${esc(r.released ?? r.year ?? '')}</p>
    <p>${[...r.genres, ...r.styles].map((s) => `<span class="pill">${esc(s.name)}</span>`).join('')}</p>
    <h2>Tracklist</h2><table id="tracklist"><tr><th></th><th>Title</th><th>Length</th><th>Listen</th><th></th></tr>
    ${tracks
      .map(
        (
          t,
        ) => `<tr><td class="muted">${esc(t.position ?? '')}</td><td>${t.type === 'HEADING' ? `<b>${esc(t.title)}</b>` : esc(t.title)}</td>
      <td class="muted">${dur(t.duration)}</td><td>${player(t)}</td>
      <td>${t.audio ? `<a href="#/track/${encodeURIComponent(t.id)}">similar →</a>` : ''}</td></tr>`,
      )
      .join('')}</table>
    ${r.notes ? `<h2>Notes</h2><p class="muted" style="white-space:pre-wrap">${esc(r.notes)}</p>` : ''}`
}

async function artistPage(id) {
  const { artist: a } = await gql(QUERIES.artist, { id: Number(id) })
  view.innerHTML = `<h1>${esc(a.name)}</h1><p class="muted">${esc(a.realName ?? '')}</p>
    <h2>Releases (${a.releases.totalCount})</h2><table>${a.releases.edges.map((e) => `<tr><td><a href="#/release/${e.node.discogsId}">${esc(e.node.title)}</a></td><td class="muted">${esc(e.node.year ?? '')}</td></tr>`).join('')}</table>`
}

async function labelPage(id) {
  const { label: l } = await gql(QUERIES.label, { id: Number(id) })
  view.innerHTML = `<h1>${esc(l.name)}</h1><p class="muted" style="white-space:pre-wrap">${esc(l.profile ?? '')}</p>
    <h2>Releases (${l.releases.totalCount})</h2><table>${l.releases.edges.map((e) => `<tr><td><a href="#/release/${e.node.discogsId}">${esc(e.node.title)}</a></td><td class="muted">${esc(e.node.year ?? '')}</td></tr>`).join('')}</table>`
}

async function trackPage(id) {
  const [{ track: t }, { models: all, probes }] = await Promise.all([
    gql(QUERIES.track, { id }),
    gql(QUERIES.models),
  ])
  const models = embedded(all)
  view.innerHTML = `<h1>${esc(t.title)}</h1>
    <p>${esc(names(t.release.artists))} · <a href="#/release/${t.release.discogsId}">${esc(t.release.title)}</a> ${esc(t.release.year ?? '')} ${player(t)}</p>
    <div id="predictions"></div>
    <div class="filters" id="listen"><button class="primary" type="button" id="mix-button">Mix</button>
      <form id="path-form" class="inline"><input id="path-q" placeholder="Path to… (search a track)" size="28" /><button type="submit">Find</button></form>
      <span id="path-hits"></span></div>
    <div id="queue"></div>
    <h2>Similar tracks</h2>
    <form class="filters" id="filters">
      <label>Model <select name="model">${models.map(modelOption).join('')}</select></label>
      <label><input type="checkbox" name="excludeSameArtist" checked /> other artists</label>
      <label><input type="checkbox" name="excludeSameRelease" checked /> other releases</label>
      <label><input type="checkbox" name="excludeSameLabel" /> other labels</label>
      <label>Style <input name="style" size="12" /></label>
      <label>Years <input name="yearFrom" size="4" /> – <input name="yearTo" size="4" /></label>
      <button class="primary" type="submit">Apply</button>
    </form><div id="similar"></div>`
  const form = document.getElementById('filters')
  const load = async () => {
    const f = new FormData(form)
    const filter = {
      excludeSameArtist: f.has('excludeSameArtist'),
      excludeSameRelease: f.has('excludeSameRelease'),
      excludeSameLabel: f.has('excludeSameLabel'),
      ...(f.get('style') ? { styles: [f.get('style')] } : {}),
      ...(f.get('yearFrom') ? { yearFrom: Number(f.get('yearFrom')) } : {}),
      ...(f.get('yearTo') ? { yearTo: Number(f.get('yearTo')) } : {}),
    }
    const { similarTracks } = await gql(QUERIES.similar, {
      id,
      first: 20,
      model: f.get('model') || null,
      filter,
    })
    // Similarity 0.5 is what two random tracks of the library score on average, 1 the same direction: the bar
    // shows how far above random a track is.
    const relative = (x) => Math.min(Math.max((x - 0.5) / 0.5, 0), 1)
    document.getElementById('similar').innerHTML =
      `<table id="similar-table"><tr><th>Track</th><th>Release</th><th>Styles</th><th>Similarity</th><th></th></tr>
      ${similarTracks
        .map(
          (
            s,
          ) => `<tr><td><a href="#/track/${encodeURIComponent(s.track.id)}">${esc(s.track.title)}</a><br><span class="muted">${esc(names(s.track.release.artists))}</span></td>
        <td><a href="#/release/${s.track.release.discogsId}">${esc(s.track.release.title)}</a></td>
        <td>${s.track.release.styles.map((x) => `<span class="pill">${esc(x.name)}</span>`).join('')}</td>
        <td class="score" title="1 = same direction, 0.5 = as related as random tracks">${s.similarity.toFixed(2)}<div class="bar"><span style="width:${(relative(s.similarity) * 100).toFixed(1)}%"></span></div></td>
        <td>${player(s.track)}</td></tr>`,
        )
        .join('')}</table>`
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    load().catch(showError)
  })
  const queueBox = document.getElementById('queue')
  const model = () => new FormData(form).get('model') || null
  const inBox = (err) => (queueBox.innerHTML = `<div class="error">${esc(err.message)}</div>`)
  document.getElementById('mix-button').addEventListener('click', () =>
    gql(QUERIES.mix, { id, model: model() })
      .then(({ instantMix }) =>
        playQueue(queueBox, `Mix from ${t.title}`, [
          t,
          ...instantMix.tracks.map((m) => ({ ...m.track, score: m.similarity })),
        ]),
      )
      .catch(inBox),
  )
  document.getElementById('path-form').addEventListener('submit', (e) => {
    e.preventDefault()
    const q = document.getElementById('path-q').value.trim()
    if (!q) return
    gql(QUERIES.search, { q, first: 8, types: ['TRACK'] })
      .then(({ search }) => {
        const hits = search.edges.filter((h) => h.node.id !== id && h.node.audio)
        const box = document.getElementById('path-hits')
        box.innerHTML = hits.length
          ? hits
              .map(
                (h) =>
                  `<button type="button" data-to="${esc(h.node.id)}">${esc(h.text)} <span class="muted">${esc(h.node.release.title)}</span></button>`,
              )
              .join(' ')
          : '<span class="muted">No track with audio matches.</span>'
        box.querySelectorAll('[data-to]').forEach((b) =>
          b.addEventListener('click', () =>
            gql(QUERIES.path, { from: id, to: b.dataset.to, model: model() })
              .then(({ trackPath: p }) =>
                playQueue(
                  queueBox,
                  `Path from ${t.title} to ${p.steps.at(-1).track.title}`,
                  p.steps.map((s) => ({ ...s.track, score: s.similarityToEnd })),
                  p.shortened
                    ? `<p class="muted" id="path-note">Shorter than asked: ${esc(p.reason)}</p>`
                    : '',
                ),
              )
              .catch(inBox),
          ),
        )
      })
      .catch(inBox)
  })
  if (probes.length)
    showPredictions(
      id,
      probes.map((p) => p.name),
    ).catch(showError)
  await load()
}

/** Every probe's top classes for the track: trained ones, an imported model's styles, imported mood and genre heads. */
async function showPredictions(id, names) {
  const shown = names.slice(0, 8)
  const data = await gql(QUERIES.predictions(shown.length), {
    id,
    ...Object.fromEntries(shown.map((n, i) => [`p${i}`, n])),
  })
  const answers = shown.map((_, i) => data[`p${i}`]).filter(Boolean)
  if (!answers.length) return
  document.getElementById('predictions').innerHTML = `<div id="predicted">${answers
    .map(
      (p) => `<h2>Predicted ${esc(p.probe.task)} <span class="muted">(probe ${esc(p.probe.name)})</span></h2>
    <p>${p.scores
      .slice(0, 5)
      .map((s) => `<span class="pill">${esc(s.class)} ${s.score.toFixed(2)}</span>`)
      .join('')}</p>`,
    )
    .join('')}</div>`
}

const PALETTE = [
  '#ff7a45',
  '#40a9ff',
  '#73d13d',
  '#f759ab',
  '#ffc53d',
  '#9254de',
  '#36cfc9',
  '#ff4d4f',
  '#bae637',
  '#597ef7',
  '#ffa940',
  '#13c2c2',
]

async function mapPage() {
  const models = embedded((await gql(QUERIES.models)).models)
  view.innerHTML = `<h1>Embedding map</h1><form class="filters" id="mapform">
      <label>Model <select name="model">${models.map(modelOption).join('')}</select></label>
      <label>Colour by <select name="colorBy"><option value="STYLE">style</option><option value="ARTIST">artist</option><option value="LABEL">label</option><option value="GENRE">genre</option></select></label>
      <button class="primary" type="submit">Draw</button></form>
    <canvas id="map" width="1200" height="600"></canvas><div class="legend" id="legend"></div><p id="picked" class="muted">Click a point to open its track.</p>`
  const form = document.getElementById('mapform')
  const canvas = document.getElementById('map')
  let points = []
  const draw = async () => {
    const f = new FormData(form)
    const picked = document.getElementById('picked')
    let embeddingMap
    // A new map is computed on the server (seconds); a request waits for it only so long, then UNAVAILABLE.
    for (let tries = 0; !embeddingMap; tries++) {
      try {
        ;({ embeddingMap } = await gql(QUERIES.map, {
          model: f.get('model') || null,
          colorBy: f.get('colorBy'),
        }))
      } catch (err) {
        if (!String(err.message).startsWith('UNAVAILABLE') || tries >= 40) throw err
        picked.textContent = 'Computing the map (the first time for a model takes a while)…'
        await new Promise((r) => setTimeout(r, 3000))
      }
    }
    picked.textContent = 'Click a point to open its track.'
    const ctx = canvas.getContext('2d')
    ctx.clearRect(0, 0, canvas.width, canvas.height)
    const xs = embeddingMap.points.map((p) => p.x)
    const ys = embeddingMap.points.map((p) => p.y)
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
    const color = (g) => PALETTE[embeddingMap.groups.indexOf(g) % PALETTE.length] ?? '#888'
    points = embeddingMap.points.map((p) => ({
      ...p,
      px: 20 + ((p.x - x0) / (x1 - x0 || 1)) * (canvas.width - 40),
      py: 20 + ((p.y - y0) / (y1 - y0 || 1)) * (canvas.height - 40),
    }))
    for (const p of points) {
      ctx.fillStyle = color(p.group)
      ctx.beginPath()
      ctx.arc(p.px, p.py, 4, 0, Math.PI * 2)
      ctx.fill()
    }
    document.getElementById('legend').innerHTML = embeddingMap.groups
      .slice(0, 24)
      .map((g) => `<span><i style="background:${color(g)}"></i>${esc(g)}</span>`)
      .join('')
  }
  canvas.addEventListener('click', (e) => {
    const r = canvas.getBoundingClientRect()
    const x = ((e.clientX - r.left) / r.width) * canvas.width
    const y = ((e.clientY - r.top) / r.height) * canvas.height
    let best
    let bestD = 100
    for (const p of points) {
      const d = (p.px - x) ** 2 + (p.py - y) ** 2
      if (d < bestD) [best, bestD] = [p, d]
    }
    if (best) location.hash = `#/track/${encodeURIComponent(best.track.id)}`
  })
  form.addEventListener('submit', (e) => {
    e.preventDefault()
    draw().catch(showError)
  })
  await draw()
}

function curve(history, key, label) {
  const pts = history.filter((h) => h[key] != null)
  if (pts.length < 2) return `<p class="muted">${label}: not enough points yet</p>`
  const xs = pts.map((h) => h.step)
  const ys = pts.map((h) => h[key])
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)]
  const path = pts
    .map(
      (h) =>
        `${(10 + ((h.step - x0) / (x1 - x0 || 1)) * 580).toFixed(1)},${(200 - ((h[key] - y0) / (y1 - y0 || 1)) * 180).toFixed(1)}`,
    )
    .join(' ')
  return `<svg class="curve" viewBox="0 0 600 220" role="img" aria-label="${esc(label)}"><polyline fill="none" stroke="#ff7a45" stroke-width="2" points="${path}"/>
    <text x="12" y="16" fill="#8a92a6" font-size="12">${esc(label)}: ${ys[0].toFixed(3)} → ${ys[ys.length - 1].toFixed(3)} (step ${x1})</text></svg>`
}

/** Held-out retrieval precision@10 with its chance rate; runs trained before it have in-batch top-1 instead. */
function validationCurve(history) {
  if (!history.some((h) => h.valPrecision != null)) return curve(history, 'valTop1', 'validation top-1')
  const last = [...history].reverse().find((h) => h.valChance != null)
  return curve(
    history,
    'valPrecision',
    `held-out precision@10 (chance ${last ? last.valChance.toFixed(3) : '?'})`,
  )
}

async function trainingPage() {
  const { trainingRuns } = await gql(QUERIES.runs)
  view.innerHTML = `<h1>Training runs</h1>${trainingRuns.length ? '' : '<p class="muted">No runs yet.</p>'}
    <div class="grid">${trainingRuns
      .map(
        (
          r,
        ) => `<div class="card"><h3>${esc(r.name)} <span class="muted">${esc(r.association.toLowerCase())} · ${esc(r.backend ?? '')}</span></h3>
      <p class="state-${r.status === 'succeeded' ? 'succeeded' : r.status === 'failed' ? 'failed' : 'running'}">${esc(r.status)} · step ${r.step}/${r.totalSteps}</p>
      ${curve(r.history, 'loss', 'training loss')}${validationCurve(r.history)}</div>`,
      )
      .join('')}</div>`
}

async function jobsPage() {
  // Jobs are admin-only (their payloads hold server paths, their logs and workers the servers' names).
  if (!localStorage.getItem('discograph.key')) {
    view.innerHTML =
      '<h1>Jobs</h1><p class="muted" id="jobs-signin">Jobs are shown to admin keys only: sign in with one to see, cancel or retry them.</p>'
    return
  }
  const render = async () => {
    const { jobs } = await gql(QUERIES.jobs)
    view.innerHTML = `<h1>Jobs</h1>
      <table id="jobs"><tr><th>Job</th><th>State</th><th>Progress</th><th>Message</th><th></th></tr>
      ${jobs.edges
        .map(
          ({
            node: j,
          }) => `<tr><td>${esc(j.name)}<br><span class="muted">${esc(j.id.slice(0, 8))} · ${esc(new Date(j.createdAt).toLocaleString())}</span></td>
        <td class="state-${esc(j.state.toLowerCase())}">${esc(j.state.toLowerCase())}${j.attempts > 1 ? ` (attempt ${j.attempts})` : ''}</td>
        <td><div class="bar"><span style="width:${((j.progress ?? 0) * 100).toFixed(0)}%"></span></div>${j.etaSeconds != null ? `<span class="muted">eta ${Math.round(j.etaSeconds)} s</span>` : ''}</td>
        <td class="muted">${esc(j.message ?? j.error ?? '')}</td>
        <td>${j.state === 'QUEUED' || j.state === 'RUNNING' ? `<button data-cancel="${esc(j.id)}">Cancel</button>` : ''}
            ${j.state === 'FAILED' || j.state === 'CANCELLED' ? `<button data-retry="${esc(j.id)}">Retry</button>` : ''}</td></tr>`,
        )
        .join('')}</table>`
    view
      .querySelectorAll('[data-cancel]')
      .forEach((b) =>
        b.addEventListener('click', () =>
          gql(QUERIES.cancel, { id: b.dataset.cancel }).then(render, showError),
        ),
      )
    view
      .querySelectorAll('[data-retry]')
      .forEach((b) =>
        b.addEventListener('click', () =>
          gql(QUERIES.retry, { id: b.dataset.retry }).then(render, showError),
        ),
      )
  }
  await render()
  timer = setInterval(() => render().catch(showError), 2000)
}

route()
