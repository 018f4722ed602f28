"""The library's own errors. The CLI turns each into a one-line message."""


class HPOError(Exception):
    """Base class of every error hpo-framework raises on purpose."""


class SpaceError(HPOError, ValueError):
    """An invalid search space (bad bounds, unknown type, bad condition, bad file)."""


class PluginError(HPOError):
    """A plugin could not be loaded, or two plugins claim one name."""


class UnknownPluginError(PluginError, LookupError):
    """A name that no installed plugin provides."""


class OptionError(HPOError, ValueError):
    """An unknown or invalid option for a strategy, backend, evaluator or executor."""


class StorageError(HPOError):
    """The storage file cannot be used (wrong schema, corrupt, or a study mismatch)."""


class StudyMismatchError(StorageError):
    """A study name reused with a different strategy, backend, dataset or space."""


class DatasetError(HPOError):
    """A dataset cannot be loaded (missing file, wrong format)."""


class TrialPruned(Exception):
    """Raised inside an objective to stop a trial early; the trial is recorded as PRUNED."""


class TrialPaused(TrialPruned):
    """Raised inside training when the study's pruner pauses the trial (it may resume it
    later). A backend that can resume sets ``checkpoint`` (anything picklable: the model's
    state and where training stood) before the exception leaves its epoch loop; the trial
    is then recorded PAUSED with it. Without a checkpoint it is a plain prune."""

    def __init__(self, message: str = "", checkpoint: object = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


class StudyLockedError(StorageError):
    """Another live driver holds the study's lease."""
