"""DataContext: the settings of Ray Data in this driver (Ray's names)."""
import threading


class DataContext:
    _current = None
    _lock = threading.Lock()

    def __init__(self):
        self.target_max_block_size = 128 * 1024 * 1024
        self.target_min_block_size = 1024 * 1024
        self.read_op_min_num_blocks = 200
        self.enable_progress_bars = True
        # A bar appears once an operator has run this long (short runs stay
        # quiet) and only when stderr is a terminal.
        self.progress_bar_delay_s = 1.0
        # Bytes of blocks a streaming run may hold in the object store at
        # once (outputs of running and finished-but-unconsumed tasks,
        # estimated from the sizes seen so far); None: a quarter of the
        # cluster's object store.
        self.max_bytes_in_flight = None
        self.max_tasks_in_flight_per_actor = 2
        self.execution_stats = None  # the last run's ExecStats

    @staticmethod
    def get_current():
        with DataContext._lock:
            if DataContext._current is None:
                DataContext._current = DataContext()
            return DataContext._current
