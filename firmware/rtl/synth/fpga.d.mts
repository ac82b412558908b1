// Types for fpga.mjs, for the TypeScript tests.
export interface Resources {
  lut4: number;
  alu?: number;
  carry?: number;
  ff: number;
  bram: number;
  /** Gowin: LUT1 cells that only drive a constant. */
  constLut1?: number;
}
export interface TargetResult {
  target: string;
  design: 'legacy' | 'framed';
  toolchain: 'debian' | 'yowasp';
  family: 'gowin' | 'ice40';
  device: string;
  board: string | null;
  clockHz: number;
  synth: Resources;
  share: { logic: number; ff: number; bram: number };
  pnr: { fmaxMHz: number; used: Record<string, { used: number; of: number }> } | null;
  bitstream: string | null;
  skipped: string | null;
}
export const OFFICIAL: {
  published: { tool: string; device: string; lut: number; ff: number; mhz: number };
  openTools: { tool: string; device: string; lut4: number; alu: number; mhz: number };
};
export const TARGETS: Record<string, { family: 'gowin' | 'ice40'; board: string | null; freqMHz: number }>;
export function missingTools(name: string): { synth: string[]; pnr: string[] };
export interface Toolchain {
  name: 'debian' | 'yowasp';
  missing: string[];
  versions?: { yosys: string | null; nextpnrIce40: string | null };
}
export const SOURCES: string[];
export const COUNTING: string;
export function buildTarget(name: string, out: string, toolchain?: Toolchain): Promise<TargetResult>;
export function chooseToolchains(which?: 'debian' | 'yowasp' | 'both', log?: (line: string) => void): Promise<Toolchain[]>;
export function placeAndRouteFigures(log: string): { fmaxMHz: number; used: Record<string, { used: number; of: number }> };
