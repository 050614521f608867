import { CONFIG_KEYS } from '../config/config.loader';

/** The `serve` flags: every configuration key that has one, named as in CONFIG_KEYS. */
export const SERVE_FLAGS = CONFIG_KEYS.filter((k) => k.flag !== undefined).map((k) => ({
  name: k.flag!,
  flags: `--${k.flag} <value>`,
  description: `${k.help} (env ${k.env}, default ${k.default || 'empty'})`,
}));
