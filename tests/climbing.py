"""A resumable objective for the pausing-pruner tests: its ranking changes with the step."""

import hpo_framework as hpo


class Climb:
    """At step s of ``steps`` it reports ``s / steps * (1 - |x - (base + slope * s)|)``:
    the best x moves as trials train, so a pruner that judged early can be wrong. Its
    checkpoint is the step it paused at."""

    resumable = True

    def __init__(self, base: float, slope: float, steps: int) -> None:
        self.base, self.slope, self.steps = base, slope, steps

    def __call__(self, params, trial):
        x = params["x"]
        start = 0 if trial.resume is None else trial.resume["step"]
        for step in range(start + 1, self.steps + 1):
            peak = self.base + self.slope * step
            trial.report(step / self.steps * (1.0 - abs(x - peak)), step)
            if trial.should_pause():
                raise hpo.TrialPaused(checkpoint={"step": step})
            if trial.should_prune():
                raise hpo.TrialPruned()
        return 1.0 - abs(x - (self.base + self.slope * self.steps))
