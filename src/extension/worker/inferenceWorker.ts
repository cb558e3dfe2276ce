/** @file Inference worker entry point (placeholder until the extension layer lands). */
export {};
