"""Dataset construction from MIMIC-IV: MeDiSumCode (`medisumcode.py`) and MeDiSumQA
(`medisumqa.py`, prompts in `medisumqa_prompts.toml`), with a manual-review round trip
(`review.py`). Both builders stream the notes file (`mimic_csv.py`) and select notes with a seeded
keyed hash (`sampling.py`), so memory stays bounded and the selection is reproducible.
"""
