// The Pallas package's public API.
export { PallasError, type PallasErrorCode } from './errors.js';
export * as wire from './wire/index.js';
export { EchoServer, type EchoConfig, type Counters } from './io/echo.js';
export { pump, type PumpConfig, type PumpResult } from './io/pump.js';
export { MemLink, DEFAULT_EAL_ARGS, ensureDpdk, type TransportConfig } from './io/transport.js';
export { doctor, formatDoctor, type DoctorReport } from './doctor.js';
export { VERSION } from './version.js';
export * as sim from './sim/index.js';
