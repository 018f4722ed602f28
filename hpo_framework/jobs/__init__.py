"""A whole job from named plugins: a :class:`~hpo_framework.jobs.job.JobConfig` (strategy,
backend, dataset, evaluator, executor and pruner by name, with options) is checked,
prepared (:mod:`~hpo_framework.jobs.pipeline` builds the objective from dataset, backend and
evaluator) and run as a study; :mod:`~hpo_framework.jobs.compare` runs several strategies
on one problem. The CLI and comparisons use this layer; ``optimize()`` does not need it.
"""
