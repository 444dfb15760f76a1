"""The steps of the procedure, one module each.

Every screen has an ``ask_*`` function that puts its question (and its buttons) into the
turn, and handlers that take an answer and return the next state, or None to stay. The
transitions they may return are declared in :data:`dialogs.machine.SCREENS`.
"""
