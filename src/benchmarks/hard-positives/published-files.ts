import type { PublishedFile } from '../benchmark-family.js';

/**
 * sha256 of the REPLACE files as committed in amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d
 * (computed here from the git blobs: `git show <commit>:<path> | sha256sum`). The VG images
 * (data/VG_100K/, data/VG_100K_2/) come from Visual Genome and are not checksummed here.
 */
const AT = 'amitakamath/hard_positives@33addaae84b58d96dc8e9251b61d497c536ed23d';

export const HARD_POSITIVES_DATA_FILES: readonly PublishedFile[] = [
  {
    path: 'hard_positives/data/vl_checklist_relations.json',
    sha256: 'f4aee47194df09f73c4bdb13e2f24c17901d71fbb15ab629b40c8667a841d535',
    origin: `${AT}:data/vl_checklist_relations.json`,
  },
  {
    path: 'hard_positives/swapped_data/vl_checklist_relations.json',
    sha256: '25174b3f0286c124cd7c2c844c1e57bb85179e37cdee0d55fc2857387dede9b5',
    origin: `${AT}:swapped_data/vl_checklist_relations.json`,
  },
  {
    path: 'hard_positives/data/vl_checklist_attributes.json',
    sha256: '4c7d262e77e1a1fd5a89ee0de43191fe697d4cf1c044e76c496761f07d824950',
    origin: `${AT}:data/vl_checklist_attributes.json`,
  },
  {
    path: 'hard_positives/swapped_data/vl_checklist_attributes.json',
    sha256: '7f6d2f2614ff8a037780ab4b6243c6e1165ceabc5e4db506ad70c63fd95f6441',
    origin: `${AT}:swapped_data/vl_checklist_attributes.json`,
  },
  // SWAP: the blobs are in the authors' git tree but too large for the project's mirror to hold, so
  // no sha256 could be computed here; the git blob ids (SHA-1 of "blob <size>\0" + contents) from
  // `git ls-tree` are given for `git hash-object` comparison.
  {
    path: 'hard_positives/data/visual_genome_attribution.json',
    sha256: null,
    origin: `${AT}:data/visual_genome_attribution.json (git blob 64f742c8106d0a0fc996b8ae6edecb09703e278f; sha256 not established)`,
  },
  {
    path: 'hard_positives/swapped_data/visual_genome_attribution.json',
    sha256: null,
    origin: `${AT}:swapped_data/visual_genome_attribution.json (git blob 064e9409a45574acbf5b9c360969e43cda063e67; sha256 not established)`,
  },
];
