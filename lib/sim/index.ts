// The simulator's front end: scenarios, runs, presentation.
export * from './scenario.js';
export * from './run.js';
export * from './format.js';
export * from './report.js';
export * from './plot.js';
