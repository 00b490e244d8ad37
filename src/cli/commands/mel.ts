import fs from 'node:fs'
import type { Command } from 'commander'
import { streamAudioFile } from '../../audio/decode-stream.ts'
import { MelStream, MEL_BANDS } from '../../audio/mel.ts'

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
      // streamed: frames are written as they are computed, so a long file needs no more memory than a short one
      const fd = fs.openSync(opts.out, 'w')
      const mel = new MelStream()
      const write = (frames: Float32Array) => fs.writeSync(fd, frames) // x86/ARM are little-endian
      let audio
      try {
        audio = await streamAudioFile(file, (samples) => write(mel.push(samples)))
        write(mel.end())
      } finally {
        fs.closeSync(fd)
      }
      const summary = {
        file,
        out: opts.out,
        frames: mel.frames,
        bands: MEL_BANDS,
        durationS: audio.durationS,
        format: audio.format,
        sourceSampleRate: audio.sourceSampleRate,
        channels: audio.channels,
      }
      if (opts.json) console.log(JSON.stringify(summary))
      else
        console.log(
          `${summary.frames} frames × ${MEL_BANDS} bands (${audio.durationS.toFixed(2)} s of ${audio.format}) → ${opts.out}`,
        )
    })
}
