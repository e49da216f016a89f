"""Running Huiwu: start-up and shutdown, the scheduler, the command line, backups and exports."""
