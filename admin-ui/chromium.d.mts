export declare const CHROMIUM_FLAGS: string[]
/** The Chromium to launch and its flags. */
export declare function chromium(): Promise<{ executablePath: string; args: string[] }>
