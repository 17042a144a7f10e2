// Per-shape GFLOP/s of CKernels' tv_mlp_gemm against OpenBLAS's cblas_sgemm (1 thread) on the
// MLP's products (forward NT, backward TN and NN at batch 128 and 64, the input/output/time
// layers, an evaluation batch of 500, an odd shape); best of 5 by thread CPU time. Also counts
// elements that differ from the scalar reference (must be 0) and from OpenBLAS (summation order).
// Built and run by scripts/bench/mlp_gemm_kernel.sh.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "mlp_gemm.h"
#include "vector_width.h"
extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);
static double now(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static float rnd(unsigned *s){*s=*s*1664525u+1013904223u;return ((*s>>8)/16777216.0f)*2-1;}
int main(void){
  openblas_set_num_threads(1);
  printf("core %s avx512 %d\n", openblas_get_corename(), tv_use_avx512());
  struct {int ta,tb,M,N,K; const char*n;} s[]={{0,1,128,256,256,"NT fwd 128x256x256"},{1,0,256,256,128,"TN dW 256x256x128"},{0,0,128,256,256,"NN dx 128x256x256"},
   {0,1,64,256,256,"NT fwd 64"},{1,0,256,256,64,"TN dW K64"},{0,0,64,256,256,"NN dx 64"},{0,1,128,256,64,"NT input K64"},{0,1,128,64,256,"NT output N64"},{1,0,64,256,128,"TN dW out"},{0,1,128,256,128,"NT time0"},{0,1,500,256,256,"NT eval 500"},{0,1,37,100,300,"NT odd"}};
  int ns=sizeof s/sizeof s[0];
  unsigned seed=1;
  for(int q=0;q<ns;q++){
    int ta=s[q].ta,tb=s[q].tb,M=s[q].M,N=s[q].N,K=s[q].K;
    float*A=malloc(4*M*K),*B=malloc(4*K*N),*C1=malloc(4*M*N),*C2=malloc(4*M*N),*C3=malloc(4*M*N),*bias=malloc(4*N);
    for(int i=0;i<M*K;i++)A[i]=rnd(&seed); for(int i=0;i<K*N;i++)B[i]=rnd(&seed); for(int i=0;i<N;i++)bias[i]=rnd(&seed);
    for(int i=0;i<M*N;i++)C1[i]=C2[i]=C3[i]=rnd(&seed);
    int lda=ta?M:K, ldb=tb?K:N;
    tv_mlp_gemm(ta,tb,M,N,K,A,lda,B,ldb,NULL,1,C1,N);
    tv_mlp_gemm_reference(ta,tb,M,N,K,A,lda,B,ldb,NULL,1,C2,N);
    cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,M,N,K,1,A,lda,B,ldb,1,C3,N);
    int dref=0,dblas=0; for(int i=0;i<M*N;i++){dref+=C1[i]!=C2[i]; dblas+=C1[i]!=C3[i];}
    // bias, no accumulate
    tv_mlp_gemm(ta,tb,M,N,K,A,lda,B,ldb,bias,0,C1,N);
    tv_mlp_gemm_reference(ta,tb,M,N,K,A,lda,B,ldb,bias,0,C2,N);
    for(int i=0;i<M*N;i++)dref+=C1[i]!=C2[i];
    double flops=2.0*M*N*K; int reps=(int)(3e8/flops)+1;
    double best1=1e9,best2=1e9;
    for(int round=0;round<5;round++){
      double t=now(); for(int r=0;r<reps;r++) tv_mlp_gemm(ta,tb,M,N,K,A,lda,B,ldb,NULL,0,C1,N); t=now()-t; if(t<best1)best1=t;
      t=now(); for(int r=0;r<reps;r++) cblas_sgemm(CblasRowMajor,ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,M,N,K,1,A,lda,B,ldb,0,C3,N); t=now()-t; if(t<best2)best2=t;
    }
    printf("%-22s mine %6.1f GF/s  openblas %6.1f GF/s  ratio %.2f  diff-ref %d diff-blas %d/%d\n",s[q].n,flops*reps/best1/1e9,flops*reps/best2/1e9,best2/best1,dref,dblas,M*N);
    free(A);free(B);free(C1);free(C2);free(C3);free(bias);
  }
}
