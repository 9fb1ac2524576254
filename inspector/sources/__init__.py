"""Where packets come from: capture files (pcap, pcapng, snoop, gzip; `capture`) and the command
line's inputs (files, globs, standard input, ``--merge``; `inputs`)."""
