"""Metrics: pure functions on strings, all on the paper's 0-100 scale.

Modules (imported on demand, so `import cluebench.metrics` stays cheap):
rouge (ROUGE-1/2/L as the reference's HF evaluate), bertscore (BERTScore, offline MiniLM by default),
entities (UMLS-entity F1 via scispaCy, or the offline concept lexicon), icd10 (code parsing and
P/R/F1), answers (MedNLI and LongHealth answer parsing), loops (repetition detector),
format_checks (instruction-format violations).
"""
