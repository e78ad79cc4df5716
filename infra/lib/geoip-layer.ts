import * as fs from 'fs';
import * as path from 'path';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/** The npm package that ships the database (a dependency of infra/, pinned by its lock file). */
export const GEOIP_PACKAGE = '@ip-location-db/geo-whois-asn-country-mmdb';
/** The IPv4 + IPv6 country database in that package (MaxMind DB format, record `{country_code}`). */
const DATABASE_FILE = 'geo-whois-asn-country.mmdb';
/** Where merge-results finds it: layer content is unpacked under /opt. */
export const GEOIP_DB_PATH = '/opt/geoip/country.mmdb';

/**
 * A Lambda layer holding a country-level IP database, for MergeResults'
 * `GEOIP_DB`. Built from the npm package without Docker: a local bundling
 * step copies the one database (and the data's licence notes) into
 * `geoip/` of the layer.
 */
export class GeoIpLayer extends Construct {
  readonly layer: lambda.LayerVersion;
  readonly databasePath = GEOIP_DB_PATH;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const packageDir = path.dirname(require.resolve(`${GEOIP_PACKAGE}/package.json`));
    const version = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')).version;
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `Country IP database for S3 Logs Analyzer (${GEOIP_PACKAGE} ${version}; data CC BY 4.0, NRO)`,
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      // No compatibleRuntimes: RustFunction's `provided.al2023` is a Runtime of its own that CDK's
      // compatibility check would not match with Runtime.PROVIDED_AL2023.
      code: lambda.Code.fromAsset(packageDir, {
        bundling: {
          // Never used: the local copy below always succeeds.
          image: DockerImage.fromRegistry('scratch'),
          local: {
            tryBundle(outputDir: string): boolean {
              const dir = path.join(outputDir, 'geoip');
              fs.mkdirSync(dir, { recursive: true });
              fs.copyFileSync(path.join(packageDir, DATABASE_FILE), path.join(dir, path.basename(GEOIP_DB_PATH)));
              for (const notice of ['README.md', 'NRO_LICENSE']) {
                const from = path.join(packageDir, notice);
                if (fs.existsSync(from)) fs.copyFileSync(from, path.join(dir, notice));
              }
              return true;
            },
          },
        },
      }),
    });
  }
}
