import fs from 'node:fs'

/**
 * Metadata JSON in the format the MTG publishes beside each Essentia model
 * (https://essentia.upf.edu/models.html: name, type, link, version, description, classes, dataset,
 * schema {inputs, outputs}, inference {sample_rate, algorithm, embedding_model}). The encoder's names and
 * shapes are those of the ONNX conversion (melspectrogram → activations, embeddings).
 */

/** The first of discogs-effnet's 400 classes as published ("Genre---Style"); the rest is filled below. */
const DISCOGS_STYLES = [
  'Blues---Boogie Woogie',
  'Blues---Chicago Blues',
  'Blues---Country Blues',
  'Blues---Delta Blues',
  'Blues---Electric Blues',
  'Blues---Harmonica Blues',
  'Blues---Jump Blues',
  'Blues---Louisiana Blues',
  'Blues---Modern Electric Blues',
  'Blues---Piano Blues',
  'Blues---Rhythm & Blues',
  'Blues---Texas Blues',
  'Brass & Military---Brass Band',
  'Brass & Military---Marches',
  'Brass & Military---Military',
  "Children's---Educational",
  "Children's---Nursery Rhymes",
  "Children's---Story",
  'Classical---Baroque',
  'Classical---Choral',
  'Classical---Classical',
  'Classical---Contemporary',
  'Classical---Impressionist',
  'Classical---Medieval',
  'Classical---Modern',
  'Classical---Neo-Classical',
  'Classical---Neo-Romantic',
  'Classical---Opera',
  'Classical---Post-Modern',
  'Classical---Renaissance',
  'Classical---Romantic',
  'Electronic---Abstract',
  'Electronic---Acid',
  'Electronic---Acid House',
  'Electronic---Acid Jazz',
  'Electronic---Ambient',
  'Electronic---Bassline',
  'Electronic---Beatdown',
  'Electronic---Berlin-School',
  'Electronic---Big Beat',
  'Electronic---Bleep',
  'Electronic---Breakbeat',
  'Electronic---Breakcore',
  'Electronic---Breaks',
  'Electronic---Broken Beat',
  'Electronic---Chillwave',
  'Electronic---Chiptune',
  'Electronic---Dance-pop',
  'Electronic---Dark Ambient',
  'Electronic---Darkwave',
  'Electronic---Deep House',
  'Electronic---Deep Techno',
  'Electronic---Disco',
  'Electronic---Downtempo',
  'Electronic---Drum n Bass',
  'Electronic---Dub',
  'Electronic---Dub Techno',
  'Electronic---Dubstep',
  'Electronic---Electro',
  'Electronic---Hard Techno',
  'Electronic---House',
  'Electronic---IDM',
  'Electronic---Minimal',
  'Electronic---Minimal Techno',
  'Electronic---Tech House',
  'Electronic---Techno',
  'Electronic---Trance',
  'Hip Hop---Boom Bap',
  'Hip Hop---Conscious',
  'Hip Hop---Instrumental',
  'Hip Hop---Trip Hop',
  'Jazz---Bebop',
  'Jazz---Cool Jazz',
  'Jazz---Free Jazz',
  'Jazz---Hard Bop',
  'Jazz---Modal',
  'Rock---Alternative Rock',
  'Rock---Hardcore',
  'Rock---Indie Rock',
  'Rock---Post-Punk',
  'Rock---Punk',
]

export function discogsStyles(n = 400): string[] {
  const out = DISCOGS_STYLES.slice(0, n)
  // filler for the classes not listed above, so that tests need not carry all 400 names
  for (let i = out.length; i < n; i++) out.push(`Stage & Screen---Style ${i + 1}`)
  return out
}

/** mtg_jamendo_moodtheme-discogs-effnet-1's 56 classes, as published. */
export const JAMENDO_MOODS = [
  'action',
  'adventure',
  'advertising',
  'background',
  'ballad',
  'calm',
  'children',
  'christmas',
  'commercial',
  'cool',
  'corporate',
  'dark',
  'deep',
  'documentary',
  'drama',
  'dramatic',
  'dream',
  'emotional',
  'energetic',
  'epic',
  'fast',
  'film',
  'fun',
  'funny',
  'game',
  'groovy',
  'happy',
  'heavy',
  'holiday',
  'hopeful',
  'inspiring',
  'love',
  'meditative',
  'melancholic',
  'melodic',
  'motivational',
  'movie',
  'nature',
  'party',
  'positive',
  'powerful',
  'relaxing',
  'retro',
  'romantic',
  'sad',
  'sexy',
  'slow',
  'soft',
  'soundscape',
  'space',
  'sport',
  'summer',
  'trailer',
  'travel',
  'upbeat',
  'uplifting',
]

/** discogs-effnet-bsdynamic-1.json (ONNX names): 400 styles, embeddings of 1280. */
export function encoderMetadata(classes = discogsStyles()): Record<string, unknown> {
  return {
    name: 'Discogs-Effnet',
    type: 'Music style classification',
    link: 'https://essentia.upf.edu/models/feature-extractors/discogs-effnet/discogs-effnet-bsdynamic-1.onnx',
    version: '1',
    description: 'Prediction of 400 music styles in the from the Discogs taxonomy',
    author: 'Pablo Alonso',
    email: 'pablo.alonso@upf.edu',
    release_date: '2023-03-29',
    framework: 'onnx',
    framework_version: '1.13.1',
    classes,
    model_types: ['frozen_model', 'onnx'],
    dataset: {
      name: 'Discogs-4M',
      citation: 'In-house dataset',
      size: '4M full tracks (3.3M used)',
      metrics: { 'ROC-AUC': 0.95417, 'PR-AUC': 0.20629 },
    },
    schema: {
      inputs: [{ name: 'melspectrogram', type: 'float', shape: ['batch_size', 128, 96] }],
      outputs: [
        {
          name: 'activations',
          type: 'float',
          shape: ['batch_size', classes.length],
          op: 'Sigmoid',
          output_purpose: 'predictions',
        },
        {
          name: 'embeddings',
          type: 'float',
          shape: ['batch_size', 1280],
          op: 'Identity',
          output_purpose: 'embeddings',
        },
      ],
    },
    citation:
      '@inproceedings{alonso2022music, title={Music Representation Learning Based on Editorial Metadata from Discogs}}',
    inference: { sample_rate: 16000, algorithm: 'TensorflowPredictEffnetDiscogs' },
  }
}

/** A head's metadata, e.g. mtg_jamendo_moodtheme-discogs-effnet-1.json: [N, 1280] → [N, classes]. */
export function headMetadata(
  classes: string[],
  options: { name?: string; op?: string; output?: string } = {},
): Record<string, unknown> {
  return {
    name: options.name ?? 'MTG-Jamendo mood and theme',
    type: 'Multi-label classification',
    link: 'https://essentia.upf.edu/models/classification-heads/mtg_jamendo_moodtheme/mtg_jamendo_moodtheme-discogs-effnet-1.onnx',
    version: '1',
    description: 'Multi-label classification of 56 mood/theme classes',
    author: 'Pablo Alonso',
    email: 'pablo.alonso@upf.edu',
    release_date: '2023-03-29',
    framework: 'onnx',
    framework_version: '1.13.1',
    classes,
    model_types: ['frozen_model', 'onnx'],
    dataset: {
      name: 'MTG-Jamendo Dataset (moodtheme subset)',
      size: '18486 full tracks',
      metrics: { 'ROC-AUC': 0.7779, 'PR-AUC': 0.1505 },
    },
    schema: {
      inputs: [{ name: 'embeddings', type: 'float', shape: ['batch_size', 1280] }],
      outputs: [
        {
          name: options.output ?? 'activations',
          type: 'float',
          shape: ['batch_size', classes.length],
          op: options.op ?? 'Sigmoid',
          output_purpose: 'predictions',
        },
      ],
    },
    inference: {
      sample_rate: 16000,
      algorithm: 'TensorflowPredict2D',
      embedding_model: {
        algorithm: 'TensorflowPredictEffnetDiscogs',
        model_name: 'discogs-effnet-bs64-1',
        link: 'https://essentia.upf.edu/models/feature-extractors/discogs-effnet/discogs-effnet-bs64-1.pb',
      },
    },
  }
}

export function writeJson(file: string, value: unknown): string {
  fs.writeFileSync(file, JSON.stringify(value, null, 4))
  return file
}
