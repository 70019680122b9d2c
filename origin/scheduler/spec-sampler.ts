// The rejection rule lives in engine/sampling/spec-sampler.ts (one implementation for the origin's
// scheduler and the edge DeepSeek engine); this path keeps the origin's imports working.
export { SpecSampler } from '../../engine/sampling/spec-sampler';
