/** Freqtrade's downloaded candle files: names, JSON and feather (Arrow IPC, LZ4) readers, folder import. */
export { readFreqtradeFeather } from './feather.js';
export {
  type FreqtradeDataFile,
  findFreqtradePair,
  importFreqtradeFile,
  listFreqtradeData,
  parseFreqtradeFileName,
  preferredFreqtradeFiles,
  readFreqtradeFolder,
  type FreqtradeImport,
} from './folder.js';
export { decodeLz4Frame } from './lz4-frame.js';
