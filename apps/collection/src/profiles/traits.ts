import { isDeepStrictEqual } from 'node:util';

/** Traits a call sets, and when the call happened (its skew-corrected timestamp). */
export interface TraitUpdate {
  traits: Record<string, unknown>;
  at: Date;
}

export interface ProfileTraits {
  traits: Record<string, unknown>;
  /** Trait name -> ISO timestamp of the call that set it. */
  timestamps: Record<string, string>;
}

export interface MergedTraits extends ProfileTraits {
  /** Traits the updates set (their value or only their timestamp): the profile must be written. */
  changed: string[];
  /** Of those, the traits whose value is not what it was before (what cdp.profile.updated announces). */
  valueChanged: string[];
}

/**
 * Traits merged by timestamp: a value replaces the stored one unless the stored one was set by a
 * newer call, so a late or replayed older call cannot overwrite what a newer one said. A trait
 * without a timestamp (written before timestamps were kept, or by a merge) takes any value.
 */
export function mergeTraits(current: ProfileTraits, updates: readonly TraitUpdate[]): MergedTraits {
  const traits = { ...current.traits };
  const timestamps = { ...current.timestamps };
  const changed = new Set<string>();
  const ordered = [...updates].sort((a, b) => a.at.getTime() - b.at.getTime());
  for (const { traits: values, at } of ordered) {
    const iso = at.toISOString();
    for (const [key, value] of Object.entries(values)) {
      const setAt = timestamps[key];
      if (key in traits && setAt !== undefined && Date.parse(setAt) > at.getTime()) continue;
      traits[key] = value;
      timestamps[key] = iso;
      changed.add(key);
    }
  }
  const valueChanged = [...changed].filter(
    (key) => !(key in current.traits) || !isDeepStrictEqual(current.traits[key], traits[key]),
  );
  return { traits, timestamps, changed: [...changed], valueChanged };
}
