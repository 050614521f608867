/**
 * What a media process does before it says it has loaded, so that a warm spare has paid for it
 * while nobody waited: a process's first peer connection costs several times a later one
 * (libdatachannel's threads, OpenSSL, the DTLS certificate, made once per process and shared by
 * every peer connection after it): 5-8 ms against ~1 ms on an idle machine, several times that on
 * a loaded one, on the way to a viewer's offer. The encoder's part is `warmUpEncoder`.
 */
import { PeerConnection, Video, type DataChannel, type Track } from 'node-datachannel';

const WARM_UP_TIMEOUT_MS = 2000;

/** Kept for the process's life: a track or channel collected before `cleanup()` crashes it. */
const kept: Array<PeerConnection | Track | DataChannel | Video> = [];

/** A peer connection with a video track and a channel, up to its offer, then closed. */
export async function warmUpWebRtc(): Promise<void> {
  const pc = new PeerConnection('warm-up', { iceServers: [], disableAutoNegotiation: true });
  const video = new Video('0', 'SendOnly');
  video.addH264Codec(96);
  video.addSSRC(1, 'warm-up', 'warm-up', 'warm-up');
  kept.push(pc, video, pc.addTrack(video), pc.createDataChannel('warm-up', { negotiated: true, id: 1 }));
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, WARM_UP_TIMEOUT_MS);
    pc.onLocalDescription(() => {
      clearTimeout(timer);
      resolve();
    });
    pc.setLocalDescription();
  });
  pc.close();
}
