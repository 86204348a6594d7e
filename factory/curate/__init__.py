"""Curation of verified data: decontamination against public benchmarks, deduplication."""
