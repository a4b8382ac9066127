"""The project's own exceptions, each carrying a sentence a non-programmer can act on."""


class LabError(Exception):
    """Base of every error LSTM Stock Lab reports to a person instead of a traceback."""


class DataError(LabError):
    """A price file or frame cannot be used: the message says why and what to do."""


class NotEnoughDataError(DataError):
    """The prices are too few for the chosen lag, split or batch size."""


class RefreshError(LabError):
    """Yahoo Finance could not give fresh prices; the data already loaded stays in use."""


class StoreError(LabError):
    """The run store could not read or write a run."""


class TrainerLostError(LabError):
    """What trains the runs is gone (a cluster's scheduler, or all its workers): a study ends
    instead of failing each remaining trial in turn."""


class MissingInputError(DataError):
    """The prices cannot supply an input the settings ask for (no Volume column, no High/Low,
    no other company): the message names what is missing."""
