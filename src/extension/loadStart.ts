// Imported first by extension.ts, so this runs before the rest of the bundle: the start of the
// activation-time measurement (bundle evaluation + activate()).
export const bundleLoadStart = performance.now();
