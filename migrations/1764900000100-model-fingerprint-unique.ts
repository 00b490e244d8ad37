import type { MigrationInterface, QueryRunner } from 'typeorm'

/**
 * One model row per set of weights: registering the same weights again (the same run, a re-imported ONNX
 * file) finds the existing model instead of making a second one whose vectors would duplicate the first's.
 */
export class ModelFingerprintUnique1764900000100 implements MigrationInterface {
  name = 'ModelFingerprintUnique1764900000100'

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE UNIQUE INDEX model_fingerprint_key ON model (fingerprint)`)
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS model_fingerprint_key`)
  }
}
