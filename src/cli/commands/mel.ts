import fs from 'node:fs'
import type { Command } from 'commander'
import { decodeAudioFile } from '../../audio/decode.ts'
import { frameCount, melFrames, MEL_BANDS } from '../../audio/mel.ts'

export function registerMelCommand(program: Command): void {
  program
    .command('mel <audio-file>')
    .description(
      'decode an audio file and write its Discogs-EffNet log-mel frames (Essentia TensorflowInputMusiCNN) as raw ' +
        'little-endian float32, frame-major [frames][96]',
    )
    .requiredOption('--out <path>', 'output file')
    .option('--json', 'print a summary as JSON')
    .action(async (file: string, opts: { out: string; json?: boolean }) => {
      const audio = await decodeAudioFile(file)
      const frames = melFrames(audio.samples)
      const buf = Buffer.from(frames.buffer, frames.byteOffset, frames.byteLength) // x86/ARM are little-endian
      fs.writeFileSync(opts.out, buf)
      const summary = {
        file,
        out: opts.out,
        frames: frameCount(audio.samples.length),
        bands: MEL_BANDS,
        durationS: audio.durationS,
        format: audio.format,
        sourceSampleRate: audio.sourceSampleRate,
        channels: audio.channels,
      }
      if (opts.json) console.log(JSON.stringify(summary))
      else console.log(`${summary.frames} frames × ${MEL_BANDS} bands (${audio.durationS.toFixed(2)} s of ${audio.format}) → ${opts.out}`)
    })
}
