/** Audio of every instance: Opus from 48 kHz stereo. */
export const AUDIO_SAMPLE_RATE = 48_000;
export const AUDIO_CHANNELS = 2;
/** Opus stereo: transparent for most content; the media process halves it on a narrow link. */
export const AUDIO_BITRATE_KBPS = 64;

export const DEFAULT_STOP_GRACE_MS = 2000;
export const DEFAULT_START_TIMEOUT_MS = 20_000;
/** After a first unexpected exit, wait this long for the others so the reason names the cause. */
export const FAILURE_SETTLE_MS = 150;

/** logs(): the tail of each process log, so the answer stays bounded. */
export const LOG_TAIL_BYTES_PER_PROCESS = 32 * 1024;
/** Failure reasons quote this many last lines of the failed process's output. */
export const REASON_OUTPUT_LINES = 4;
export const REASON_OUTPUT_BYTES = 4096;
/** sun_path is 108 bytes on Linux; longer socket paths move to a short temp dir. */
export const UNIX_SOCKET_PATH_MAX = 100;
/** In an instance's socket dir: the data channels' sockets (the application's STREAMSTACK_DATA_CHANNELS). */
export const CHANNEL_DIR = 'channels';
/** Instance ids become directory names. */
export const INSTANCE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
