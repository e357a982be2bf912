/* The tiny static program the process-start benchmark runs: exits at once. */
int main(void)
{
    return 0;
}
