// Echoes every IPC message back (benchmark/shm-processes.ts compares Queue round trips with these).
process.on('message', (m) => process.send(m));
process.send('ready');
