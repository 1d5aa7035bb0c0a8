/** The BullMQ queue every proxy writes to and every worker reads from. */
export const QUEUE_NAME = 'exchanges';
export const JOB_NAME = 'analyse';
