"""Export: a run's kept rows as SFT shards, its rejected rows and preference pairs, the dataset
card and the manifest. `exporter.py` runs it; `shapes.py` holds each dataset config's columns
and rows, `shards.py` the files, `pairs.py` the preference pairs, `card.py` the card, and
`report.py` the summary `factory report` prints."""
