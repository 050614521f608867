import { InitialSchema1764000000000 } from './1764000000000-initial-schema';
import { Sessions1764100000000 } from './1764100000000-sessions';

/** Every migration, oldest first. */
export const MIGRATIONS = [InitialSchema1764000000000, Sessions1764100000000];
