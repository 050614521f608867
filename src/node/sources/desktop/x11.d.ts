/** The part of node-x11 (`x11` on npm, which ships no types) the desktop helper uses. */
declare module 'x11' {
  type Callback<T> = (err: Error | null, result: T) => void;

  interface ModeInfo {
    id: number;
    width: number;
    height: number;
  }

  interface RandR {
    GetScreenResources(root: number, cb: Callback<{ config_timestamp: number; crtcs: number[]; outputs: number[]; modeinfos: ModeInfo[] }>): void;
    CreateMode(
      root: number,
      mode: { name: string; width: number; height: number; dot_clock: number; h_sync_start: number; h_sync_end: number; h_total: number; v_sync_start: number; v_sync_end: number; v_total: number },
      cb: Callback<number>,
    ): void;
    AddOutputMode(output: number, mode: number): void;
    SetCrtcConfig(crtc: number, ts: number, configTs: number, x: number, y: number, mode: number, rotation: number, outputs: number[], cb: Callback<{ status: number }>): void;
    SetScreenSize(root: number, width: number, height: number, mmWidth: number, mmHeight: number): void;
    GetScreenSizeRange(root: number, cb: Callback<{ minWidth: number; minHeight: number; maxWidth: number; maxHeight: number }>): void;
  }

  interface XFixes {
    firstEvent: number;
    SelectionEventMask: { SetSelectionOwner: number };
    SelectSelectionInput(window: number, selection: number, mask: number): void;
  }

  interface XEvent {
    type: number;
    owner?: number;
    selection?: number;
  }

  interface XClient {
    AllocID(): number;
    CreateWindow(id: number, parent: number, x: number, y: number, width: number, height: number, border: number, depth: number, cls: number, visual: number, values: object): void;
    InternAtom(onlyIfExists: boolean, name: string, cb: Callback<number>): void;
    GetGeometry(drawable: number, cb: Callback<{ width: number; height: number }>): void;
    require(name: 'randr', cb: Callback<RandR>): void;
    require(name: 'fixes', cb: Callback<XFixes>): void;
    on(event: 'event', listener: (ev: XEvent) => void): void;
    on(event: 'error', listener: (err: Error) => void): void;
    on(event: 'end' | 'close', listener: () => void): void;
    terminate(): void;
  }

  interface Display {
    client: XClient;
    screen: Array<{ root: number }>;
  }

  export function createClient(options: { display: string }, cb: Callback<Display>): void;
}
