/**
 * The decision half of fuzzy matching, kept pure: the database measures how alike the tags and each
 * candidate track are (pg_trgm similarities, see track-match.repository.ts), these functions turn the
 * measurements into one score per candidate and the scores into a verdict.
 */

import type { CandidateTrack } from '../../db/repositories/track-match.repository.ts'

export type { CandidateTrack }

export interface FileEvidence {
  trackNo?: number
  discNo?: number
  year?: number
  durationS?: number
}

export type MatchMode = 'tags' | 'release'

export interface MatchPolicy {
  /** lowest score accepted */
  threshold: number
  /** the best must beat the runner-up by this much, else the file is ambiguous */
  margin: number
}

/**
 * `tags`: the whole catalog is searched, so the album and artist must agree too and the bar is high.
 * `release`: a tagger wrote the Discogs release id, only its tracks compete and title, track number and
 * duration decide; a lower bar, a wider margin.
 */
export const MATCH_POLICIES: Record<MatchMode, MatchPolicy> = {
  tags: { threshold: 0.8, margin: 0.05 },
  release: { threshold: 0.6, margin: 0.1 },
}

const WEIGHTS: Record<
  MatchMode,
  { title: number; album: number; artist: number; trackNo: number; duration: number; year: number }
> = {
  // year is small but not nothing: a reissue has the same titles, album and artist as its original
  tags: { title: 0.4, album: 0.25, artist: 0.15, trackNo: 0.1, duration: 0.1, year: 0.1 },
  release: { title: 0.45, album: 0, artist: 0, trackNo: 0.35, duration: 0.2, year: 0 },
}

/** Below these, a candidate is not the file whatever else agrees (a same-titled album by someone else). */
const GATES = { title: 0.5, album: 0.4, artist: 0.4 }

/**
 * Whether the file's track number fits the candidate: its ordinal in the release (how most taggers count,
 * vinyl included), or the number in a CD-style position ("7", "2-7" with the disc number checked).
 * null when the file has no track number.
 */
export function trackNumberAgrees(
  c: Pick<CandidateTrack, 'position' | 'ordinal'>,
  f: FileEvidence,
): boolean | null {
  if (f.trackNo === undefined) return null
  if (f.trackNo === c.ordinal && (f.discNo === undefined || f.discNo <= 1)) return true
  const pos = c.position?.trim() ?? ''
  const multi = /^(?:CD|DVD)?(\d+)[-.](\d+)$/i.exec(pos)
  if (multi)
    return Number(multi[2]) === f.trackNo && (f.discNo === undefined || Number(multi[1]) === f.discNo)
  if (/^\d+$/.test(pos)) return Number(pos) === f.trackNo
  return f.trackNo === c.ordinal
}

/**
 * 1 when the lengths agree within max(2 s, 2 %) (Discogs durations are whole seconds and often rounded),
 * falling linearly to 0 at five times that. null when either length is unknown.
 */
export function durationAgreement(fileS: number | undefined, trackS: number | null): number | null {
  if (fileS === undefined || trackS === null || trackS <= 0) return null
  const tol = Math.max(2, 0.02 * trackS)
  const diff = Math.abs(fileS - trackS)
  if (diff <= tol) return 1
  return Math.max(0, 1 - (diff - tol) / (4 * tol))
}

/**
 * Weighted mean over the evidence both sides have (missing evidence neither helps nor hurts), or null
 * when a gate fails. In `release` mode album, artist and year are not used: the release is known.
 */
export function scoreCandidate(c: CandidateTrack, f: FileEvidence, mode: MatchMode): number | null {
  const w = WEIGHTS[mode]
  if (mode === 'tags') {
    if (c.titleSim === null || c.titleSim < GATES.title) return null
    if (c.albumSim !== null && c.albumSim < GATES.album) return null
    if (c.artistSim !== null && c.artistSim < GATES.artist) return null
  }
  let sum = 0
  let weight = 0
  const add = (wt: number, v: number | null) => {
    if (v === null || wt === 0) return
    sum += wt * v
    weight += wt
  }
  add(w.title, c.titleSim)
  add(w.album, c.albumSim)
  add(w.artist, c.artistSim)
  const tn = trackNumberAgrees(c, f)
  add(w.trackNo, tn === null ? null : tn ? 1 : 0)
  add(w.duration, durationAgreement(f.durationS, c.durationS))
  add(w.year, f.year === undefined || c.releaseYear === null ? null : f.year === c.releaseYear ? 1 : 0)
  return weight > 0 ? sum / weight : null
}

export interface Scored {
  candidate: CandidateTrack
  score: number
}

export type MatchDecision =
  | { kind: 'matched'; best: Scored; runnerUp?: Scored }
  | { kind: 'ambiguous'; contenders: Scored[] }
  | { kind: 'unmatched'; reason: 'no-candidates' | 'low-confidence'; best?: Scored }

/** Scores every candidate and decides: one clear winner above the threshold, a near tie, or nothing. */
export function decideMatch(
  candidates: CandidateTrack[],
  f: FileEvidence,
  mode: MatchMode,
  policy = MATCH_POLICIES[mode],
): MatchDecision {
  const scored: Scored[] = []
  for (const candidate of candidates) {
    const score = scoreCandidate(candidate, f, mode)
    if (score !== null) scored.push({ candidate, score })
  }
  // ties broken by track id only so that the order is stable; a tie is reported as ambiguous anyway
  scored.sort((a, b) => b.score - a.score || a.candidate.trackId - b.candidate.trackId)
  if (!scored.length) return { kind: 'unmatched', reason: 'no-candidates' }
  const [best, runnerUp] = scored
  if (best.score < policy.threshold) return { kind: 'unmatched', reason: 'low-confidence', best }
  if (runnerUp && best.score - runnerUp.score < policy.margin) {
    return {
      kind: 'ambiguous',
      contenders: scored.filter((s) => best.score - s.score < policy.margin).slice(0, 5),
    }
  }
  return { kind: 'matched', best, runnerUp }
}

/** "Title" (release 123 A1, "Album" 1999) — how a candidate is named in notes. */
export function describeCandidate(c: CandidateTrack): string {
  return `"${c.title ?? ''}" (release ${c.releaseId} ${c.position ?? `#${c.ordinal}`}, "${c.releaseTitle}"${c.releaseYear ? ` ${c.releaseYear}` : ''})`
}
